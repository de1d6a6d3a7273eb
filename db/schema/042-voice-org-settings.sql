-- module-voice schema 042: voice_org_settings, an organization's own values for module settings that
-- module.config.yaml gives module-wide defaults for. NULL means "the module default". Today: how long
-- transcripts (with their segments and S3 archives) are kept, read by the retention job.

CREATE TABLE IF NOT EXISTS public.voice_org_settings (
    org_id uuid PRIMARY KEY REFERENCES public.orgs (id) ON DELETE CASCADE,
    transcript_retention_days integer
        CONSTRAINT voice_org_settings_retention_range CHECK (transcript_retention_days BETWEEN 1 AND 3650),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid REFERENCES auth.users (id)
);

DROP TRIGGER IF EXISTS voice_org_settings_updated_at ON public.voice_org_settings;
CREATE TRIGGER voice_org_settings_updated_at
    BEFORE UPDATE ON public.voice_org_settings
    FOR EACH ROW EXECUTE FUNCTION public.voice_set_updated_at();

-- Access: members read their org's settings; org admins and owners write them.
ALTER TABLE public.voice_org_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_org_settings FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_org_settings FROM PUBLIC, anon, authenticated;
GRANT SELECT, INSERT, UPDATE ON public.voice_org_settings TO authenticated;
GRANT ALL ON public.voice_org_settings TO service_role;

DROP POLICY IF EXISTS voice_org_settings_select_policy ON public.voice_org_settings;
CREATE POLICY voice_org_settings_select_policy ON public.voice_org_settings
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

DROP POLICY IF EXISTS voice_org_settings_insert_policy ON public.voice_org_settings;
CREATE POLICY voice_org_settings_insert_policy ON public.voice_org_settings
    FOR INSERT TO authenticated
    WITH CHECK (public.is_org_admin(org_id));

DROP POLICY IF EXISTS voice_org_settings_update_policy ON public.voice_org_settings;
CREATE POLICY voice_org_settings_update_policy ON public.voice_org_settings
    FOR UPDATE TO authenticated
    USING (public.is_org_admin(org_id))
    WITH CHECK (public.is_org_admin(org_id));
