// pages/admin/AdminLayout.tsx — the administration area: a sub-navigation
// (each link shown only with its permission in some scope; GitOps only when
// the server has GitOps observation on) over the section routed below it.
import { NavLink, Outlet } from "react-router";
import { useGitopsEnabled } from "../../lib/gitopsEnabled";
import { useSession } from "../../lib/session";

const SECTIONS: { to: string; label: string; any: string[]; gitops?: boolean }[] = [
  { to: "/admin", label: "Teams, projects and connections", any: ["team.edit", "project.edit", "integration.edit"] },
  { to: "/admin/access", label: "Users, roles and grants", any: ["user.manage", "role.edit", "user_role.edit"] },
  { to: "/admin/workflows", label: "Workflows", any: ["workflow.edit"] },
  { to: "/admin/policies", label: "Policy rules", any: ["policy.edit", "policy.author"] },
  { to: "/admin/gitops", label: "GitOps (Argo CD)", any: ["integration.edit"], gitops: true },
  { to: "/admin/notifications", label: "Notifications", any: ["notification.edit"] },
];

export function AdminLayout() {
  const { can } = useSession();
  const gitops = useGitopsEnabled();
  return (
    <>
      <h1>Administration</h1>
      <nav aria-label="Administration" className="subnav">
        <ul>
          {SECTIONS.filter((s) => s.any.some(can) && (!s.gitops || gitops)).map((s) => (
            <li key={s.to}>
              <NavLink to={s.to} end>
                {s.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}
