-- module-voice schema 001: trigger functions shared by the voice_* tables.
--
-- Conventions for every db/schema file (see docs/database.md):
--   * idempotent: CREATE TABLE IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, CREATE INDEX IF NOT EXISTS,
--     constraints added only when absent, CREATE OR REPLACE FUNCTION, DROP POLICY/TRIGGER IF EXISTS +
--     CREATE; re-applying a file never removes rows, columns or tables;
--   * a table is locked down (RLS on, no anon/authenticated grants) in the same file that creates it,
--     so no failed later file can leave it open to Supabase's default grants;
--   * module functions are prefixed voice_ so they never replace a platform function of the same name
--     (e.g. the platform's update_updated_at_column()).

-- updated_at is maintained by the database, whatever the caller sends.
CREATE OR REPLACE FUNCTION public.voice_set_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- Rows that hang off a session (transcripts, segments, analytics, KB links) carry the session's org_id
-- so their policies are a plain org check. The writer may omit org_id (it is filled in); a different
-- org_id is refused. SECURITY INVOKER on purpose: a user who cannot see the session gets "not found".
CREATE OR REPLACE FUNCTION public.voice_inherit_session_org() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_org_id uuid;
BEGIN
    IF NEW.session_id IS NULL THEN
        RETURN NEW;  -- the NOT NULL constraint reports it
    END IF;
    SELECT s.org_id INTO v_org_id FROM public.voice_sessions s WHERE s.id = NEW.session_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'voice session % not found', NEW.session_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.org_id IS NULL THEN
        NEW.org_id := v_org_id;
    ELSIF NEW.org_id <> v_org_id THEN
        RAISE EXCEPTION '%.org_id does not match the organization of voice session %', TG_TABLE_NAME, NEW.session_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;

-- A row never moves to another organization (policies check the org; moving would sidestep them).
CREATE OR REPLACE FUNCTION public.voice_forbid_org_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.org_id IS DISTINCT FROM OLD.org_id THEN
        RAISE EXCEPTION '%.org_id cannot be changed', TG_TABLE_NAME
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

REVOKE ALL ON FUNCTION public.voice_set_updated_at() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.voice_inherit_session_org() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.voice_forbid_org_change() FROM PUBLIC;
