// App.tsx — routes and the permission-gated navigation. Nothing but the
// login page renders until GET /users/me has answered (fail closed); a link
// shows only when the signed-in user holds its permission in some scope. The
// Inbox link counts the cross-team requests waiting for my teams.
import { NavLink, Navigate, Route, Routes, useNavigate } from "react-router";
import { Button, ErrorBanner, Loading } from "./components/ui";
import { useInboxCount } from "./lib/inboxCount";
import { signOut, useSession } from "./lib/session";
import { LoginPage } from "./pages/Login";
import { DashboardPage } from "./pages/Dashboard";
import { RequestsPage } from "./pages/Requests";
import { NewRequestPage } from "./pages/NewRequest";
import { RequestDetailPage } from "./pages/RequestDetail";
import { CatalogPage } from "./pages/Catalog";
import { AgentsPage } from "./pages/Agents";
import { AuditPage } from "./pages/Audit";
import { AdminLayout } from "./pages/admin/AdminLayout";
import { TenancyPage } from "./pages/admin/Tenancy";
import { AccessPage } from "./pages/admin/Access";
import { WorkflowsPage } from "./pages/admin/Workflows";
import { PoliciesPage } from "./pages/admin/Policies";
import { GitopsPage } from "./pages/admin/Gitops";
import { NotificationsPage } from "./pages/admin/Notifications";
import { InboxPage } from "./pages/Inbox";
import { ProfilePage } from "./pages/Profile";

// a link shows when the user holds any of its permissions (none listed: always)
const NAV: { to: string; label: string; any?: string[] }[] = [
  { to: "/", label: "Dashboard" },
  { to: "/requests", label: "Requests" },
  { to: "/inbox", label: "Inbox", any: ["secret.value.provide", "secret.approve", "secret.security.approve"] },
  { to: "/catalog", label: "Catalog", any: ["secret.list"] },
  { to: "/agents", label: "Agents", any: ["agent.list"] },
  { to: "/audit", label: "Audit", any: ["audit.read"] },
  { to: "/admin", label: "Admin", any: ["team.edit"] },
  { to: "/profile", label: "Profile" },
];

export function App() {
  const { state, can, reload } = useSession();
  const navigate = useNavigate();
  const inboxCount = useInboxCount();
  if (state.status === "loading")
    return (
      <main className="center">
        <Loading what="your session" />
      </main>
    );
  if (state.status === "error")
    return (
      <main className="center">
        <ErrorBanner error={new Error(`Cannot load your session: ${state.message}`)} />
        <Button onPress={() => void reload()}>Try again</Button>
      </main>
    );
  if (state.status === "signed_out")
    return (
      <Routes>
        <Route path="*" element={<LoginPage />} />
      </Routes>
    );
  const me = state.me;
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Secrets Bridge</span>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.any || n.any.some(can)).map((n) => (
              <li key={n.to}>
                <NavLink to={n.to} end={n.to === "/"}>
                  {n.label}
                  {n.to === "/inbox" && inboxCount && (
                    <>
                      {" "}
                      <span className="count">{inboxCount}</span>
                    </>
                  )}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">{me.user.display_name || me.user.username}</span>
        <Button
          onPress={async () => {
            await signOut();
            await reload();
            navigate("/");
          }}
        >
          Sign out
        </Button>
      </header>
      <main>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route path="/requests" element={<RequestsPage />} />
          <Route path="/requests/new" element={<NewRequestPage />} />
          <Route path="/requests/:id" element={<RequestDetailPage />} />
          <Route path="/catalog" element={<CatalogPage />} />
          <Route path="/agents" element={<AgentsPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/inbox" element={<InboxPage />} />
          <Route path="/admin" element={<AdminLayout />}>
            <Route index element={<TenancyPage />} />
            <Route path="access" element={<AccessPage />} />
            <Route path="workflows" element={<WorkflowsPage />} />
            <Route path="policies" element={<PoliciesPage />} />
            <Route path="gitops" element={<GitopsPage />} />
            <Route path="notifications" element={<NotificationsPage />} />
          </Route>
          <Route path="/profile" element={<ProfilePage />} />
          <Route path="*" element={<h1>Page not found</h1>} />
        </Routes>
      </main>
    </div>
  );
}
