-- module-voice schema 002: voice_configs, the Pipecat interview configurations of an organization.
-- Seed: technical specification 2.3 (minus its destructive preamble), plus the fixes listed below.

CREATE TABLE IF NOT EXISTS public.voice_configs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
    name varchar(255) NOT NULL,
    interview_type varchar(100) NOT NULL,
    description text,
    config_json jsonb NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid NOT NULL REFERENCES auth.users (id),
    updated_by uuid REFERENCES auth.users (id),
    CONSTRAINT voice_configs_name_org_unique UNIQUE (org_id, name)
);

-- Validation the seed states in prose ("1-255 characters", "valid JSON"); added only when absent.
DO $schema$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('voice_configs_name_not_blank', $c$CHECK (btrim(name) <> '')$c$),
        ('voice_configs_interview_type_not_blank', $c$CHECK (btrim(interview_type) <> '')$c$),
        ('voice_configs_config_json_object', $c$CHECK (jsonb_typeof(config_json) = 'object')$c$),
        ('voice_configs_version_positive', $c$CHECK (version >= 1)$c$)
    ) AS v(name, definition) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = 'public.voice_configs'::regclass AND conname = c.name) THEN
            EXECUTE format('ALTER TABLE public.voice_configs ADD CONSTRAINT %I %s', c.name, c.definition);
        END IF;
    END LOOP;
END
$schema$;

CREATE INDEX IF NOT EXISTS idx_voice_configs_org_id ON public.voice_configs (org_id);
CREATE INDEX IF NOT EXISTS idx_voice_configs_is_active ON public.voice_configs (is_active);
CREATE INDEX IF NOT EXISTS idx_voice_configs_interview_type ON public.voice_configs (interview_type);
CREATE INDEX IF NOT EXISTS idx_voice_configs_org_created_at ON public.voice_configs (org_id, created_at DESC);

-- "Version incremented on each update" (seed rule), done here so concurrent editors cannot both write
-- version N+1. A writer that already bumped the version (NEW.version <> OLD.version) is left alone.
CREATE OR REPLACE FUNCTION public.voice_configs_bump_version() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.version = OLD.version
       AND (NEW.name, NEW.interview_type, NEW.description, NEW.config_json)
           IS DISTINCT FROM (OLD.name, OLD.interview_type, OLD.description, OLD.config_json) THEN
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.voice_configs_bump_version() FROM PUBLIC;

DROP TRIGGER IF EXISTS update_voice_configs_updated_at ON public.voice_configs;
DROP TRIGGER IF EXISTS voice_configs_set_updated_at ON public.voice_configs;
CREATE TRIGGER voice_configs_set_updated_at
    BEFORE UPDATE ON public.voice_configs
    FOR EACH ROW EXECUTE FUNCTION public.voice_set_updated_at();

DROP TRIGGER IF EXISTS voice_configs_bump_version ON public.voice_configs;
CREATE TRIGGER voice_configs_bump_version
    BEFORE UPDATE ON public.voice_configs
    FOR EACH ROW EXECUTE FUNCTION public.voice_configs_bump_version();

DROP TRIGGER IF EXISTS voice_configs_forbid_org_change ON public.voice_configs;
CREATE TRIGGER voice_configs_forbid_org_change
    BEFORE UPDATE OF org_id ON public.voice_configs
    FOR EACH ROW EXECUTE FUNCTION public.voice_forbid_org_change();

-- Access: members read, admins write (docs/contracts.md "Who may do what").
ALTER TABLE public.voice_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_configs FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_configs FROM PUBLIC, anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.voice_configs TO authenticated;
GRANT ALL ON public.voice_configs TO service_role;

DROP POLICY IF EXISTS voice_configs_select_policy ON public.voice_configs;
CREATE POLICY voice_configs_select_policy ON public.voice_configs
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

DROP POLICY IF EXISTS voice_configs_insert_policy ON public.voice_configs;
CREATE POLICY voice_configs_insert_policy ON public.voice_configs
    FOR INSERT TO authenticated
    WITH CHECK (public.is_org_admin(org_id));

DROP POLICY IF EXISTS voice_configs_update_policy ON public.voice_configs;
CREATE POLICY voice_configs_update_policy ON public.voice_configs
    FOR UPDATE TO authenticated
    USING (public.is_org_admin(org_id))
    WITH CHECK (public.is_org_admin(org_id));

DROP POLICY IF EXISTS voice_configs_delete_policy ON public.voice_configs;
CREATE POLICY voice_configs_delete_policy ON public.voice_configs
    FOR DELETE TO authenticated
    USING (public.is_org_admin(org_id));

COMMENT ON TABLE public.voice_configs IS 'Pipecat interview configurations per organization';
COMMENT ON COLUMN public.voice_configs.config_json IS 'Full Pipecat configuration JSON (object)';
COMMENT ON COLUMN public.voice_configs.version IS 'Incremented by the database when name, type, description or config_json change';
