import { CredentialsPanel } from "../components/credentials/CredentialsPanel";
import { useVoiceModule } from "../hooks/context";

/** `/admin/sys/voice` (platform admins): the platform's default provider keys. */
export function SysVoiceAdminPage() {
  const { isPlatformAdmin } = useVoiceModule();
  return (
    <div className="voice-page">
      <header className="voice-page__header">
        <h1>Voice Configuration</h1>
      </header>
      {isPlatformAdmin === false ? (
        <p className="voice-info" role="note">
          Only platform admins manage the platform&apos;s default keys.
        </p>
      ) : (
        <CredentialsPanel
          target={{ scope: "platform" }}
          title="Platform default provider keys"
          description="Used by every organization that has not saved its own key for a service."
        />
      )}
    </div>
  );
}
