// pages/admin/TeamMembers.tsx — one team's members (paged), add a user, remove
// one. Membership grants no permission by itself (docs/rbac.md).
import { useState } from "react";
import { api, listAll, must, pageQuery } from "../../api/client";
import { CreateForm } from "../../components/forms";
import { PagedList, usePaged } from "../../components/paged";
import { Button, ErrorBanner, Select, Time, useLoad, useSubmit } from "../../components/ui";

export function TeamMembers({ teams }: { teams: { value: string; label: string }[] }) {
  const [teamId, setTeamId] = useState("");
  const [userId, setUserId] = useState("");
  const users = useLoad(() => listAll("/api/v1/users"), []);
  const members = usePaged(
    (cursor) => (teamId ? must(api.GET("/api/v1/teams/{id}/members", { params: { path: { id: teamId }, query: pageQuery(50, cursor) } })) : Promise.resolve({ items: [] })),
    [teamId],
  );
  const remove = useSubmit();
  const teamName = teams.find((t) => t.value === teamId)?.label ?? "";
  return (
    <div className="inline-form">
      <h3>Members</h3>
      <Select label="Team of the members" value={teamId} onChange={setTeamId} options={teams} />
      {teamId && (
        <>
          <ErrorBanner error={remove.error} />
          <PagedList paged={members} what="members" empty={`${teamName} has no members yet.`}>
            {(items) => (
              <ul className="plain" aria-label={`Members of ${teamName}`}>
                {items.map((m) => (
                  <li key={m.user_id} className="row">
                    <span>
                      {m.username} <span className="hint">(since <Time at={m.added_at} />)</span>
                    </span>
                    <Button
                      isDisabled={remove.busy}
                      onPress={() => void remove.submit(async () => (await must(api.DELETE("/api/v1/teams/{id}/members/{user_id}", { params: { path: { id: teamId, user_id: m.user_id! } } })), await members.reload()))}
                    >
                      Remove {m.username}
                    </Button>
                  </li>
                ))}
              </ul>
            )}
          </PagedList>
          <ErrorBanner error={users.error} />
          <CreateForm
            title={`Add a member to ${teamName}`}
            submitLabel="Add member"
            onCreate={async () => {
              if (!userId) throw new Error("Choose a user to add.");
              await must(api.POST("/api/v1/teams/{id}/members", { params: { path: { id: teamId } }, body: { user_id: userId } }));
              setUserId("");
              await members.reload();
            }}
          >
            <Select label="User to add" value={userId} onChange={setUserId} required options={(users.data ?? []).map((u) => ({ value: u.id!, label: u.username! }))} />
          </CreateForm>
        </>
      )}
    </div>
  );
}
