import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderOptions } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { VoiceModuleProvider, type VoiceModuleConfig } from "../hooks/context";
import type { VoiceApi } from "../lib/api";

export const ORG = "00000000-0000-4000-8000-000000000001";

export function testQueryClient() {
  return new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } } });
}

export function renderWithVoice(
  ui: ReactElement,
  { api, module = {}, ...options }: { api: VoiceApi; module?: Partial<VoiceModuleConfig> } & Omit<RenderOptions, "wrapper">,
) {
  const client = testQueryClient();
  const navigate = module.navigate ?? (() => undefined);
  function Wrapper({ children }: { children: ReactNode }) {
    return (
      <QueryClientProvider client={client}>
        <VoiceModuleProvider api={api} websocketUrl="ws://127.0.0.1:1/ws" getToken={() => "test-token"} orgId={ORG} orgRole="org_admin" navigate={navigate} {...module}>
          {children}
        </VoiceModuleProvider>
      </QueryClientProvider>
    );
  }
  return { client, ...render(ui, { wrapper: Wrapper, ...options }) };
}
