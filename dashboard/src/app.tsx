import { useEffect, useRef, useState } from "preact/hooks";
import type { Shown } from "./api.js";
import { EndpointView } from "./endpoint-view.js";
import { JobView } from "./job-view.js";
import { JobsView } from "./jobs-view.js";
import { KeyPrompt } from "./key-prompt.js";
import { KeysView } from "./keys-view.js";
import { can, type Session, SessionContext } from "./session.js";
import { UsageView } from "./usage-view.js";
import { WebhooksView } from "./webhooks-view.js";
import { WorkspacesView } from "./workspaces-view.js";

/** The route is the URL's hash (`#/jobs/job_…`), so every view is one page the server serves. */
function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [reason, setReason] = useState<Shown | null>(null);
  const hash = useHash();
  const main = useRef<HTMLElement>(null);
  // A new view is a new page to a screen reader or keyboard user: start them at its top, not on the old link.
  useEffect(() => {
    main.current?.focus();
  }, [hash, session]);
  if (!session) {
    return (
      <KeyPrompt
        reason={reason}
        onSignedIn={(signedIn) => {
          setReason(null);
          setSession({
            ...signedIn,
            signOut: (why) => {
              setReason(why ?? null);
              setSession(null);
            },
          });
        }}
      />
    );
  }
  const admin = can(session.key, "admin:all");
  const jobs = can(session.key, "jobs:read");
  const workspaces = can(session.key, "workspaces:read");
  const tabs = [
    ...(admin ? [{ href: "#/keys", label: "Keys" }] : []),
    ...(jobs ? [{ href: "#/jobs", label: "Jobs" }] : []),
    ...(workspaces ? [{ href: "#/workspaces", label: "Workspaces" }] : []),
    ...(workspaces ? [{ href: "#/webhooks", label: "Webhooks" }] : []),
    // Every key may read its own usage (x-knify-self-access); an admin key sees every key's.
    { href: "#/usage", label: "Usage" },
  ];
  const route = hash || tabs[0]?.href || "";
  const jobMatch = /^#\/jobs\/(job_[A-Za-z0-9]+)$/.exec(route);
  const endpointMatch = /^#\/webhooks\/(we_[A-Za-z0-9]+)$/.exec(route);
  let view = (
    <p>This key has no permission the dashboard can show (it needs admin:all, jobs:read or workspaces:read).</p>
  );
  if (jobMatch?.[1] && jobs) view = <JobView jobId={jobMatch[1]} />;
  else if (endpointMatch?.[1] && workspaces) view = <EndpointView endpointId={endpointMatch[1]} />;
  else if (route.startsWith("#/keys") && admin) view = <KeysView />;
  else if (route.startsWith("#/jobs") && jobs) view = <JobsView />;
  else if (route.startsWith("#/usage")) view = <UsageView />;
  else if (route.startsWith("#/workspaces") && workspaces) view = <WorkspacesView />;
  else if (route.startsWith("#/webhooks") && workspaces) view = <WebhooksView />;
  return (
    <SessionContext.Provider value={session}>
      <header>
        <span class="brand">Knify</span>
        <nav aria-label="Sections">
          {tabs.map((tab) => (
            <a href={tab.href} aria-current={route.startsWith(tab.href) ? "page" : undefined}>
              {tab.label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.key.name} <small>({session.key.type})</small>
        </span>
        <button type="button" class="secondary" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <main ref={main} tabIndex={-1}>
        {view}
      </main>
    </SessionContext.Provider>
  );
}
