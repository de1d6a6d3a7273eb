-- module-voice schema 004: the session status machine and its audit trail.
--
--   pending -> ready -> active -> completed
--   pending | ready | active -> failed | cancelled
--   completed, failed, cancelled are final.
--
-- Enforced by triggers on voice_sessions, so every writer (API, bot callbacks, watchdog, a concurrent
-- transaction) goes through the same rule: the row lock taken by UPDATE serializes writers and the
-- trigger sees the status the previous writer committed. An illegal transition raises SQLSTATE VS409
-- ("invalid status transition from completed to active"); access_common maps it to HTTP 409.

CREATE TABLE IF NOT EXISTS public.voice_session_status_history (
    id bigserial PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES public.voice_sessions (id) ON DELETE CASCADE,
    org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
    from_status varchar(50),
    to_status varchar(50) NOT NULL,
    changed_by uuid,   -- auth.uid(), else voice_sessions.updated_by; no FK: the audit outlives users
    reason text,
    changed_at timestamptz NOT NULL DEFAULT now()
);

DO $schema$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('voice_session_status_history_to_status_check',
         $c$CHECK (to_status IN ('pending', 'ready', 'active', 'completed', 'failed', 'cancelled'))$c$),
        ('voice_session_status_history_from_status_check',
         $c$CHECK (from_status IS NULL OR from_status IN ('pending', 'ready', 'active', 'completed', 'failed', 'cancelled'))$c$)
    ) AS v(name, definition) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = 'public.voice_session_status_history'::regclass AND conname = c.name) THEN
            EXECUTE format('ALTER TABLE public.voice_session_status_history ADD CONSTRAINT %I %s',
                           c.name, c.definition);
        END IF;
    END LOOP;
END
$schema$;

CREATE INDEX IF NOT EXISTS idx_voice_session_status_history_session
    ON public.voice_session_status_history (session_id, changed_at, id);
CREATE INDEX IF NOT EXISTS idx_voice_session_status_history_org_id
    ON public.voice_session_status_history (org_id);

-- The transition table, in one place; services may call it to explain a 409 before trying.
CREATE OR REPLACE FUNCTION public.voice_session_transition_allowed(p_from text, p_to text) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE p_from
        WHEN 'pending' THEN p_to IN ('ready', 'failed', 'cancelled')
        WHEN 'ready' THEN p_to IN ('active', 'failed', 'cancelled')
        WHEN 'active' THEN p_to IN ('completed', 'failed', 'cancelled')
        ELSE false
    END
$$;

-- A session is born pending; its lifecycle timestamps start empty.
CREATE OR REPLACE FUNCTION public.voice_sessions_before_insert() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.status IS NOT NULL AND NEW.status <> 'pending' THEN
        RAISE EXCEPTION 'invalid initial status %: a new voice session must be pending', NEW.status
            USING ERRCODE = 'VS409';
    END IF;
    NEW.started_at := NULL;
    NEW.completed_at := NULL;
    NEW.duration_seconds := NULL;
    RETURN NEW;
END
$$;

-- Validates the transition and sets the lifecycle columns. started_at, completed_at and
-- duration_seconds belong to the database: on the user path (roles authenticated/anon) writes to them
-- are ignored; privileged writers (service_role, the owner) may record an exact time (e.g. the bot's
-- join time), and the database fills in whatever they leave empty. SECURITY INVOKER because it needs
-- the caller's role (current_user).
CREATE OR REPLACE FUNCTION public.voice_sessions_status_transition() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF current_user IN ('authenticated', 'anon') THEN
        NEW.started_at := OLD.started_at;
        NEW.completed_at := OLD.completed_at;
        NEW.duration_seconds := OLD.duration_seconds;
    END IF;
    IF NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'voice_sessions.created_by cannot be changed' USING ERRCODE = 'check_violation';
    END IF;

    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;  -- not a transition (e.g. a repeated bot callback): nothing to validate or record
    END IF;
    -- An unknown status is left to voice_sessions_status_check (SQLSTATE 23514, a bad value).
    IF NEW.status IN ('pending', 'ready', 'active', 'completed', 'failed', 'cancelled')
       AND NOT public.voice_session_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'invalid status transition from % to %', OLD.status, NEW.status
            USING ERRCODE = 'VS409',
                  DETAIL = format('voice session %s is %s', OLD.id, OLD.status);
    END IF;

    IF NEW.status = 'active' THEN
        NEW.started_at := coalesce(NEW.started_at, now());
    ELSIF NEW.status IN ('completed', 'failed', 'cancelled') THEN
        -- Never before the start: started_at may come from a writer's clock (e.g. the bot's join time).
        NEW.completed_at := greatest(coalesce(NEW.completed_at, now()), NEW.started_at);
        -- NULL when the interview never started (failed or cancelled before active).
        NEW.duration_seconds := coalesce(
            NEW.duration_seconds,
            CASE WHEN NEW.started_at IS NOT NULL
                 THEN greatest(0, round(extract(epoch FROM NEW.completed_at - NEW.started_at)))::integer
            END
        );
    END IF;
    RETURN NEW;
END
$$;

-- Audit rows are written by the database itself. SECURITY DEFINER: role authenticated has no INSERT
-- privilege on the history table (nobody may forge or edit it), yet a user's transition is recorded.
CREATE OR REPLACE FUNCTION public.voice_sessions_record_status() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.voice_session_status_history (session_id, org_id, from_status, to_status, changed_by)
        VALUES (NEW.id, NEW.org_id, NULL, NEW.status, coalesce(auth.uid(), NEW.created_by));
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO public.voice_session_status_history
            (session_id, org_id, from_status, to_status, changed_by, reason)
        VALUES (NEW.id, NEW.org_id, OLD.status, NEW.status, coalesce(auth.uid(), NEW.updated_by),
                CASE WHEN NEW.status IN ('failed', 'cancelled') THEN NEW.failure_reason END);
    END IF;
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION public.voice_sessions_before_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.voice_sessions_status_transition() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.voice_sessions_record_status() FROM PUBLIC;

DROP TRIGGER IF EXISTS voice_sessions_initial_status ON public.voice_sessions;
CREATE TRIGGER voice_sessions_initial_status
    BEFORE INSERT ON public.voice_sessions
    FOR EACH ROW EXECUTE FUNCTION public.voice_sessions_before_insert();

-- On every UPDATE (not only UPDATE OF status): the lifecycle columns are protected on all updates.
DROP TRIGGER IF EXISTS voice_sessions_status_transition ON public.voice_sessions;
CREATE TRIGGER voice_sessions_status_transition
    BEFORE UPDATE ON public.voice_sessions
    FOR EACH ROW EXECUTE FUNCTION public.voice_sessions_status_transition();

-- AFTER triggers: the row exists (history references it) and only applied changes are recorded.
DROP TRIGGER IF EXISTS voice_sessions_record_created ON public.voice_sessions;
CREATE TRIGGER voice_sessions_record_created
    AFTER INSERT ON public.voice_sessions
    FOR EACH ROW EXECUTE FUNCTION public.voice_sessions_record_status();

DROP TRIGGER IF EXISTS voice_sessions_record_transition ON public.voice_sessions;
CREATE TRIGGER voice_sessions_record_transition
    AFTER UPDATE OF status ON public.voice_sessions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION public.voice_sessions_record_status();

-- Access: org members read; nobody writes directly (only the trigger above, as the owner).
-- Not FORCEd: the SECURITY DEFINER trigger inserts as the table owner, which on Supabase is not
-- necessarily BYPASSRLS; authenticated/anon are still fully subject to RLS and have no write grants.
ALTER TABLE public.voice_session_status_history ENABLE ROW LEVEL SECURITY;
-- service_role reads it too but, like everyone, cannot write it: "trigger only / nobody".
REVOKE ALL ON public.voice_session_status_history FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON SEQUENCE public.voice_session_status_history_id_seq FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.voice_session_status_history TO authenticated, service_role;

DROP POLICY IF EXISTS voice_session_status_history_select_policy ON public.voice_session_status_history;
CREATE POLICY voice_session_status_history_select_policy ON public.voice_session_status_history
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

COMMENT ON TABLE public.voice_session_status_history IS
    'Audit of voice session status changes, written only by the voice_sessions triggers';
