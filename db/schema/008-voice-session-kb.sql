-- module-voice schema 008: voice_session_kb, the knowledge bases a session's bot grounds on
-- (data model 002, section 7). org_id is denormalized from the session (filled in by the database)
-- so the read policy is a plain org check.

CREATE TABLE IF NOT EXISTS public.voice_session_kb (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES public.voice_sessions (id) ON DELETE CASCADE,
    kb_id uuid NOT NULL REFERENCES public.kb_bases (id) ON DELETE CASCADE,
    is_enabled boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT now(),
    added_by uuid NOT NULL REFERENCES auth.users (id),
    CONSTRAINT voice_session_kb_session_kb_unique UNIQUE (session_id, kb_id)
);

ALTER TABLE public.voice_session_kb
    ADD COLUMN IF NOT EXISTS org_id uuid REFERENCES public.orgs (id) ON DELETE CASCADE;

-- Rows written before org_id existed get it from their session; then org_id is required. Runs once:
-- afterwards the column is already NOT NULL.
DO $schema$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'public.voice_session_kb'::regclass
               AND attname = 'org_id' AND NOT attnotnull) THEN
        UPDATE public.voice_session_kb k SET org_id = s.org_id
        FROM public.voice_sessions s
        WHERE k.org_id IS NULL AND s.id = k.session_id;
        ALTER TABLE public.voice_session_kb ALTER COLUMN org_id SET NOT NULL;
    END IF;
END
$schema$;

CREATE INDEX IF NOT EXISTS idx_voice_session_kb_session_id ON public.voice_session_kb (session_id);
CREATE INDEX IF NOT EXISTS idx_voice_session_kb_kb_id ON public.voice_session_kb (kb_id);
CREATE INDEX IF NOT EXISTS idx_voice_session_kb_org_id ON public.voice_session_kb (org_id);

-- The knowledge base must belong to the session's organization: the bot (service_role) loads the
-- linked documents, so a cross-org link would leak another org's documents into the interview.
-- SECURITY INVOKER: a knowledge base the caller cannot see is reported as not found.
CREATE OR REPLACE FUNCTION public.voice_session_kb_check_kb() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_org_id uuid;
BEGIN
    IF NEW.kb_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT b.org_id INTO v_org_id FROM public.kb_bases b WHERE b.id = NEW.kb_id;
    IF NOT FOUND OR v_org_id IS DISTINCT FROM NEW.org_id THEN
        RAISE EXCEPTION 'knowledge base % not found in this organization', NEW.kb_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.voice_session_kb_check_kb() FROM PUBLIC;

-- Trigger names order the BEFORE triggers: org_id is filled in (a_) before the kb check (b_) reads it.
DROP TRIGGER IF EXISTS voice_session_kb_a_session_org ON public.voice_session_kb;
CREATE TRIGGER voice_session_kb_a_session_org
    BEFORE INSERT OR UPDATE OF session_id, org_id ON public.voice_session_kb
    FOR EACH ROW EXECUTE FUNCTION public.voice_inherit_session_org();

DROP TRIGGER IF EXISTS voice_session_kb_b_check_kb ON public.voice_session_kb;
CREATE TRIGGER voice_session_kb_b_check_kb
    BEFORE INSERT OR UPDATE OF session_id, org_id, kb_id ON public.voice_session_kb
    FOR EACH ROW EXECUTE FUNCTION public.voice_session_kb_check_kb();

-- Access: members read; the session's creator or an org admin links, toggles and unlinks.
ALTER TABLE public.voice_session_kb ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_session_kb FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_session_kb FROM PUBLIC, anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.voice_session_kb TO authenticated;
GRANT ALL ON public.voice_session_kb TO service_role;

DROP POLICY IF EXISTS voice_session_kb_select_policy ON public.voice_session_kb;
CREATE POLICY voice_session_kb_select_policy ON public.voice_session_kb
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

DROP POLICY IF EXISTS voice_session_kb_insert_policy ON public.voice_session_kb;
CREATE POLICY voice_session_kb_insert_policy ON public.voice_session_kb
    FOR INSERT TO authenticated
    WITH CHECK (public.can_manage_voice_session(session_id));

DROP POLICY IF EXISTS voice_session_kb_update_policy ON public.voice_session_kb;
CREATE POLICY voice_session_kb_update_policy ON public.voice_session_kb
    FOR UPDATE TO authenticated
    USING (public.can_manage_voice_session(session_id))
    WITH CHECK (public.can_manage_voice_session(session_id));

DROP POLICY IF EXISTS voice_session_kb_delete_policy ON public.voice_session_kb;
CREATE POLICY voice_session_kb_delete_policy ON public.voice_session_kb
    FOR DELETE TO authenticated
    USING (public.can_manage_voice_session(session_id));

COMMENT ON TABLE public.voice_session_kb IS 'Knowledge bases linked to a voice session for AI grounding';
