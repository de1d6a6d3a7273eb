import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, NavLink, Navigate, Route, Routes, useNavigate, useParams } from "react-router";
import { ErrorState, LoadingState } from "../components/common/States";
import { VoiceModuleProvider, type VoiceLinkProps } from "../hooks/context";
import { voiceRetry } from "../hooks/queryOptions";
import { createVoiceApi } from "../lib/api";
import { OrgVoiceAdminPage } from "../pages/OrgVoiceAdminPage";
import { SysVoiceAdminPage } from "../pages/SysVoiceAdminPage";
import { VoiceSessionDetailPage } from "../pages/VoiceSessionDetailPage";
import { VoiceSessionsPage } from "../pages/VoiceSessionsPage";
import { loadDevConfig, USER_ORDER, userLabel, type DevHarnessConfig, type DevUser } from "./devConfig";

const USER_STORAGE_KEY = "module-voice-harness-user";

function RouterLink({ to, children, ...rest }: VoiceLinkProps) {
  return (
    <Link to={to} {...rest}>
      {children}
    </Link>
  );
}

function SessionRoute() {
  const { id } = useParams();
  return id ? <VoiceSessionDetailPage sessionId={id} /> : null;
}

function NotFound() {
  return (
    <div className="voice-page">
      <h1>Page not found</h1>
      <Link to="/voice">Go to Voice Interviews</Link>
    </div>
  );
}

function isPlatformAdmin(user: DevUser): boolean {
  return user.sysRole === "sys_admin" || user.sysRole === "sys_owner";
}

/** Everything below the user picker, re-created when the user changes (no cache shared between users). */
function SignedIn({ config, user }: { config: DevHarnessConfig; user: DevUser }) {
  const navigate = useNavigate();
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry: voiceRetry, refetchOnWindowFocus: false, staleTime: 5_000 }, mutations: { retry: false } },
      }),
  );
  const api = useMemo(() => createVoiceApi({ baseUrl: config.restUrl, getToken: () => user.token }), [config.restUrl, user.token]);
  const home = user.orgId ? "/voice" : "/admin/sys/voice";
  return (
    <QueryClientProvider client={queryClient}>
      <VoiceModuleProvider
        api={api}
        websocketUrl={config.websocketUrl}
        getToken={() => user.token}
        orgId={user.orgId}
        orgRole={user.orgRole}
        isPlatformAdmin={isPlatformAdmin(user)}
        dailyStandIn={config.dailyStandIn}
        Link={RouterLink}
        navigate={(to) => void navigate(to)}
      >
        <Routes>
          <Route path="/" element={<Navigate to={home} replace />} />
          <Route path="/voice" element={<VoiceSessionsPage />} />
          <Route path="/voice/sessions/:id" element={<SessionRoute />} />
          <Route path="/admin/org/voice" element={<OrgVoiceAdminPage />} />
          <Route path="/admin/sys/voice" element={<SysVoiceAdminPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </VoiceModuleProvider>
    </QueryClientProvider>
  );
}

/** The dev harness: a CORA-like shell (left navigation, user picker) around the module's pages. */
export function HarnessApp() {
  const [config, setConfig] = useState<DevHarnessConfig | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [userKey, setUserKey] = useState<string>(() => localStorage.getItem(USER_STORAGE_KEY) ?? "acmeAdmin");

  useEffect(() => {
    const controller = new AbortController();
    loadDevConfig(controller.signal)
      .then((c) => {
        setConfig(c);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, [attempt]);

  const users = config ? USER_ORDER.filter((k) => config.users[k]).concat(Object.keys(config.users).filter((k) => !USER_ORDER.includes(k))) : [];
  const user = config?.users[userKey] ?? (config && users[0] ? config.users[users[0]] : undefined);
  const activeKey = user && config ? (Object.entries(config.users).find(([, u]) => u === user)?.[0] ?? userKey) : userKey;

  const chooseUser = (key: string) => {
    localStorage.setItem(USER_STORAGE_KEY, key);
    setUserKey(key);
  };

  return (
    <div className="harness">
      <a className="harness__skip" href="#main">
        Skip to content
      </a>
      <header className="harness__top">
        <span className="harness__brand">CORA · module-voice</span>
        <div className="harness__user">
          <label htmlFor="harness-user">Signed in as</label>
          <select id="harness-user" value={activeKey} onChange={(e) => chooseUser(e.target.value)} disabled={!config}>
            {config
              ? users.map((key) => (
                  <option key={key} value={key}>
                    {userLabel(key, config.users[key]!)}
                  </option>
                ))
              : null}
          </select>
        </div>
      </header>
      <div className="harness__body">
        <nav className="harness__nav" aria-label="Main navigation">
          <ul>
            <li>
              <NavLink to="/voice">Voice Interviews</NavLink>
            </li>
            {user && (user.orgRole === "org_admin" || user.orgRole === "org_owner") ? (
              <li>
                <NavLink to="/admin/org/voice">Voice Settings</NavLink>
              </li>
            ) : null}
            {user && isPlatformAdmin(user) ? (
              <li>
                <NavLink to="/admin/sys/voice">Voice Configuration</NavLink>
              </li>
            ) : null}
          </ul>
          {config ? <p className="harness__hint">API {config.restUrl}</p> : null}
        </nav>
        <main id="main" className="harness__main" tabIndex={-1}>
          {error ? <ErrorState error={error} title="The local stack is not reachable" onRetry={() => setAttempt((a) => a + 1)} /> : null}
          {!config && !error ? <LoadingState label="Connecting to the local stack…" /> : null}
          {config && user ? <SignedIn key={activeKey} config={config} user={user} /> : null}
        </main>
      </div>
    </div>
  );
}
