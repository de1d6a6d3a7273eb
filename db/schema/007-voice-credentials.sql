-- module-voice schema 007: voice_credentials, references to provider API keys held in AWS Secrets
-- Manager (seed 2.4). The database never stores a key: only the secret ARN and the key's last four
-- characters for display. org_id NULL is the platform default for a service; an org row overrides it.

CREATE TABLE IF NOT EXISTS public.voice_credentials (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid REFERENCES public.orgs (id) ON DELETE CASCADE,
    service_name varchar(50) NOT NULL,
    credentials_secret_arn text NOT NULL,
    config_metadata jsonb NOT NULL DEFAULT '{}',
    is_active boolean NOT NULL DEFAULT true,
    last_validated_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid NOT NULL REFERENCES auth.users (id),
    updated_by uuid REFERENCES auth.users (id),
    CONSTRAINT voice_credentials_service_check CHECK (service_name IN ('daily', 'deepgram', 'cartesia'))
);

-- The seed made org_id NOT NULL; platform defaults need NULL.
DO $schema$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'public.voice_credentials'::regclass
               AND attname = 'org_id' AND attnotnull) THEN
        ALTER TABLE public.voice_credentials ALTER COLUMN org_id DROP NOT NULL;
    END IF;
END
$schema$;
ALTER TABLE public.voice_credentials ADD COLUMN IF NOT EXISTS key_last4 text;

DO $schema$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('voice_credentials_secret_arn_format',
         $c$CHECK (credentials_secret_arn ~ '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[^[:space:]]+$')$c$),
        ('voice_credentials_key_last4_check', $c$CHECK (key_last4 IS NULL OR char_length(key_last4) BETWEEN 1 AND 4)$c$),
        ('voice_credentials_config_metadata_object', $c$CHECK (jsonb_typeof(config_metadata) = 'object')$c$)
    ) AS v(name, definition) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = 'public.voice_credentials'::regclass AND conname = c.name) THEN
            EXECUTE format('ALTER TABLE public.voice_credentials ADD CONSTRAINT %I %s', c.name, c.definition);
        END IF;
    END LOOP;
END
$schema$;

-- One credential per service per org, and one platform default per service. Two partial indexes
-- because a plain UNIQUE (org_id, service_name) treats every NULL org_id as distinct. Upserts name
-- them as ON CONFLICT (org_id, service_name) WHERE org_id IS NOT NULL / (service_name) WHERE org_id IS NULL.
CREATE UNIQUE INDEX IF NOT EXISTS voice_credentials_org_service_unique
    ON public.voice_credentials (org_id, service_name) WHERE org_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS voice_credentials_platform_service_unique
    ON public.voice_credentials (service_name) WHERE org_id IS NULL;

CREATE INDEX IF NOT EXISTS idx_voice_credentials_org_id ON public.voice_credentials (org_id);
CREATE INDEX IF NOT EXISTS idx_voice_credentials_service ON public.voice_credentials (service_name);
CREATE INDEX IF NOT EXISTS idx_voice_credentials_is_active ON public.voice_credentials (is_active);

DROP TRIGGER IF EXISTS update_voice_credentials_updated_at ON public.voice_credentials;
DROP TRIGGER IF EXISTS voice_credentials_set_updated_at ON public.voice_credentials;
CREATE TRIGGER voice_credentials_set_updated_at
    BEFORE UPDATE ON public.voice_credentials
    FOR EACH ROW EXECUTE FUNCTION public.voice_set_updated_at();

DROP TRIGGER IF EXISTS voice_credentials_forbid_org_change ON public.voice_credentials;
CREATE TRIGGER voice_credentials_forbid_org_change
    BEFORE UPDATE OF org_id ON public.voice_credentials
    FOR EACH ROW EXECUTE FUNCTION public.voice_forbid_org_change();

-- Access: an org's rows to its admins only; platform rows to platform admins only.
ALTER TABLE public.voice_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_credentials FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_credentials FROM PUBLIC, anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.voice_credentials TO authenticated;
GRANT ALL ON public.voice_credentials TO service_role;

DROP POLICY IF EXISTS voice_credentials_select_policy ON public.voice_credentials;
CREATE POLICY voice_credentials_select_policy ON public.voice_credentials
    FOR SELECT TO authenticated
    USING ((org_id IS NULL AND public.is_sys_admin()) OR (org_id IS NOT NULL AND public.is_org_admin(org_id)));

DROP POLICY IF EXISTS voice_credentials_insert_policy ON public.voice_credentials;
CREATE POLICY voice_credentials_insert_policy ON public.voice_credentials
    FOR INSERT TO authenticated
    WITH CHECK ((org_id IS NULL AND public.is_sys_admin()) OR (org_id IS NOT NULL AND public.is_org_admin(org_id)));

DROP POLICY IF EXISTS voice_credentials_update_policy ON public.voice_credentials;
CREATE POLICY voice_credentials_update_policy ON public.voice_credentials
    FOR UPDATE TO authenticated
    USING ((org_id IS NULL AND public.is_sys_admin()) OR (org_id IS NOT NULL AND public.is_org_admin(org_id)))
    WITH CHECK ((org_id IS NULL AND public.is_sys_admin()) OR (org_id IS NOT NULL AND public.is_org_admin(org_id)));

DROP POLICY IF EXISTS voice_credentials_delete_policy ON public.voice_credentials;
CREATE POLICY voice_credentials_delete_policy ON public.voice_credentials
    FOR DELETE TO authenticated
    USING ((org_id IS NULL AND public.is_sys_admin()) OR (org_id IS NOT NULL AND public.is_org_admin(org_id)));

COMMENT ON TABLE public.voice_credentials IS
    'Voice service credentials (Daily, Deepgram, Cartesia) as Secrets Manager ARNs; org_id NULL = platform default';
COMMENT ON COLUMN public.voice_credentials.credentials_secret_arn IS 'AWS Secrets Manager ARN for actual credentials';
COMMENT ON COLUMN public.voice_credentials.key_last4 IS 'Last four characters of the key, for display only';
