import { createContext, useContext, type ComponentType, type ReactNode } from "react";
import type { TokenSource, VoiceApi } from "../lib/api";
import type { Uuid } from "../types";

export type OrgRole = "org_user" | "org_admin" | "org_owner";

export interface VoiceLinkProps {
  to: string;
  className?: string;
  children: ReactNode;
  "aria-label"?: string;
}

/** Where the module's pages live in the host app (the seed's navigation: /voice, /admin/org/voice, /admin/sys/voice). */
export interface VoicePaths {
  sessions: string;
  session: (id: Uuid) => string;
  orgAdmin: string;
  sysAdmin: string;
}

export const DEFAULT_PATHS: VoicePaths = {
  sessions: "/voice",
  session: (id) => `/voice/sessions/${encodeURIComponent(id)}`,
  orgAdmin: "/admin/org/voice",
  sysAdmin: "/admin/sys/voice",
};

/**
 * What the module needs from its host (the CORA app, or the dev harness): the API client, the live
 * transcript WebSocket URL and token, the current org and what the user may do there (for hiding
 * controls; the API enforces the rules anyway), and how to link and navigate.
 */
export interface VoiceModuleConfig {
  api: VoiceApi;
  /** `wss://<api>/<stage>` in production, `ws://127.0.0.1:8080/ws` locally. */
  websocketUrl: string;
  /** The user's JWT (the WebSocket takes it as `?token=`). */
  getToken: TokenSource;
  /** The organization the user works in (`null`: none, e.g. a platform admin without membership). */
  orgId: Uuid | null;
  orgRole?: OrgRole | null;
  isPlatformAdmin?: boolean;
  /** The local stack's Daily stand-in hands out rooms no browser can join: say so instead of trying. */
  dailyStandIn?: boolean;
  /** A router link (react-router's Link, Next's Link...); a plain <a> by default. */
  Link?: ComponentType<VoiceLinkProps>;
  navigate?: (to: string) => void;
  paths?: VoicePaths;
}

export interface VoiceModule extends Omit<VoiceModuleConfig, "Link" | "navigate" | "paths"> {
  Link: ComponentType<VoiceLinkProps>;
  navigate: (to: string) => void;
  paths: VoicePaths;
  isOrgAdmin: boolean;
}

function PlainLink({ to, children, ...rest }: VoiceLinkProps) {
  return (
    <a href={to} {...rest}>
      {children}
    </a>
  );
}

const VoiceModuleContext = createContext<VoiceModule | null>(null);

export function VoiceModuleProvider({ children, ...config }: VoiceModuleConfig & { children: ReactNode }) {
  const value: VoiceModule = {
    ...config,
    Link: config.Link ?? PlainLink,
    navigate: config.navigate ?? ((to: string) => window.location.assign(to)),
    paths: config.paths ?? DEFAULT_PATHS,
    isOrgAdmin: config.orgRole === "org_admin" || config.orgRole === "org_owner",
  };
  return <VoiceModuleContext.Provider value={value}>{children}</VoiceModuleContext.Provider>;
}

/** The module configuration; throws outside a VoiceModuleProvider. */
export function useVoiceModule(): VoiceModule {
  const value = useContext(VoiceModuleContext);
  if (!value) throw new Error("module-voice components need a <VoiceModuleProvider> (with the API client and org)");
  return value;
}

/** The module configuration, or null outside a provider (for hooks that also take explicit options). */
export function useOptionalVoiceModule(): VoiceModule | null {
  return useContext(VoiceModuleContext);
}

export function useVoiceApi(): VoiceApi {
  return useVoiceModule().api;
}
