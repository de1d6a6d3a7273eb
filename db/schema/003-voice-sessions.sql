-- module-voice schema 003: voice_sessions, one interview of one candidate.
-- Seed: technical specification 2.1 + data model (workspace_id), minus the destructive preamble; plus the
-- dispatch/bot columns of docs/contracts.md. The status machine lives in 004.

CREATE TABLE IF NOT EXISTS public.voice_sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
    candidate_name varchar(255),
    candidate_email varchar(255),
    interview_type varchar(100) NOT NULL,
    config_id uuid REFERENCES public.voice_configs (id) ON DELETE SET NULL,
    status varchar(50) NOT NULL DEFAULT 'pending',
    daily_room_url text,
    daily_room_name varchar(255),
    daily_room_token text,
    ecs_task_arn text,
    session_metadata jsonb NOT NULL DEFAULT '{}',
    started_at timestamptz,
    completed_at timestamptz,
    duration_seconds integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid NOT NULL REFERENCES auth.users (id),
    updated_by uuid REFERENCES auth.users (id),
    CONSTRAINT voice_sessions_status_check CHECK (
        status IN ('pending', 'ready', 'active', 'completed', 'failed', 'cancelled')
    ),
    CONSTRAINT voice_sessions_duration_check CHECK (duration_seconds IS NULL OR duration_seconds >= 0)
);

-- Data model 002: optional workspace. docs/contracts.md: bot dispatch and liveness.
ALTER TABLE public.voice_sessions
    ADD COLUMN IF NOT EXISTS workspace_id uuid REFERENCES public.workspaces (id) ON DELETE SET NULL,
    ADD COLUMN IF NOT EXISTS dispatch_mode text,           -- 'pool' (SQS standby bot) | 'task' (ECS run_task)
    ADD COLUMN IF NOT EXISTS dispatch_ref text,            -- SQS message id or ECS task ARN
    ADD COLUMN IF NOT EXISTS dispatched_at timestamptz,
    ADD COLUMN IF NOT EXISTS bot_joined_at timestamptz,
    ADD COLUMN IF NOT EXISTS last_heartbeat_at timestamptz,
    ADD COLUMN IF NOT EXISTS failure_reason text,
    ADD COLUMN IF NOT EXISTS bot_room_token text;          -- the bot's Daily token; never returned by the API

DO $schema$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('voice_sessions_interview_type_not_blank', $c$CHECK (btrim(interview_type) <> '')$c$),
        ('voice_sessions_candidate_email_format',
         $c$CHECK (candidate_email IS NULL OR candidate_email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$')$c$),
        ('voice_sessions_session_metadata_object', $c$CHECK (jsonb_typeof(session_metadata) = 'object')$c$),
        ('voice_sessions_dispatch_mode_check', $c$CHECK (dispatch_mode IS NULL OR dispatch_mode IN ('pool', 'task'))$c$),
        ('voice_sessions_failure_reason_length', $c$CHECK (failure_reason IS NULL OR char_length(failure_reason) <= 2000)$c$),
        ('voice_sessions_completed_after_started',
         $c$CHECK (completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at)$c$)
    ) AS v(name, definition) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = 'public.voice_sessions'::regclass AND conname = c.name) THEN
            EXECUTE format('ALTER TABLE public.voice_sessions ADD CONSTRAINT %I %s', c.name, c.definition);
        END IF;
    END LOOP;
END
$schema$;

CREATE INDEX IF NOT EXISTS idx_voice_sessions_org_id ON public.voice_sessions (org_id);
CREATE INDEX IF NOT EXISTS idx_voice_sessions_status ON public.voice_sessions (status);
CREATE INDEX IF NOT EXISTS idx_voice_sessions_created_at ON public.voice_sessions (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_voice_sessions_config_id ON public.voice_sessions (config_id);
CREATE INDEX IF NOT EXISTS idx_voice_sessions_interview_type ON public.voice_sessions (interview_type);
-- Listing an org's sessions newest first, optionally by status; "my sessions"; workspace view.
CREATE INDEX IF NOT EXISTS idx_voice_sessions_org_created_at ON public.voice_sessions (org_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_voice_sessions_org_status ON public.voice_sessions (org_id, status);
CREATE INDEX IF NOT EXISTS idx_voice_sessions_created_by ON public.voice_sessions (created_by);
CREATE INDEX IF NOT EXISTS idx_voice_sessions_workspace_id ON public.voice_sessions (workspace_id);
-- ECS task events and pool pick-ups find their session by task ARN / message id.
CREATE INDEX IF NOT EXISTS idx_voice_sessions_dispatch_ref ON public.voice_sessions (dispatch_ref)
    WHERE dispatch_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_voice_sessions_ecs_task_arn ON public.voice_sessions (ecs_task_arn)
    WHERE ecs_task_arn IS NOT NULL;
-- The watchdog scans only live sessions (heartbeat / join timeouts).
CREATE INDEX IF NOT EXISTS idx_voice_sessions_live ON public.voice_sessions (status, last_heartbeat_at)
    WHERE status IN ('pending', 'ready', 'active');

-- The configuration and workspace of a session belong to the session's organization, and a new session
-- uses an active configuration (seed rule). Without this a member could attach another org's config
-- (its prompts) to a session and have the bot, which runs as service_role, load it. SECURITY INVOKER:
-- a configuration the caller cannot see is reported as not found.
CREATE OR REPLACE FUNCTION public.voice_sessions_check_refs() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_org_id uuid;
    v_active boolean;
BEGIN
    IF NEW.config_id IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.config_id IS DISTINCT FROM OLD.config_id OR NEW.org_id IS DISTINCT FROM OLD.org_id) THEN
        SELECT c.org_id, c.is_active INTO v_org_id, v_active FROM public.voice_configs c WHERE c.id = NEW.config_id;
        IF NOT FOUND OR v_org_id <> NEW.org_id THEN
            RAISE EXCEPTION 'voice configuration % not found in this organization', NEW.config_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF NOT v_active THEN
            RAISE EXCEPTION 'voice configuration % is not active', NEW.config_id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.workspace_id IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.workspace_id IS DISTINCT FROM OLD.workspace_id OR NEW.org_id IS DISTINCT FROM OLD.org_id) THEN
        SELECT w.org_id INTO v_org_id FROM public.workspaces w WHERE w.id = NEW.workspace_id;
        IF NOT FOUND OR v_org_id <> NEW.org_id THEN
            RAISE EXCEPTION 'workspace % not found in this organization', NEW.workspace_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.voice_sessions_check_refs() FROM PUBLIC;

DROP TRIGGER IF EXISTS update_voice_sessions_updated_at ON public.voice_sessions;
DROP TRIGGER IF EXISTS voice_sessions_set_updated_at ON public.voice_sessions;
CREATE TRIGGER voice_sessions_set_updated_at
    BEFORE UPDATE ON public.voice_sessions
    FOR EACH ROW EXECUTE FUNCTION public.voice_set_updated_at();

DROP TRIGGER IF EXISTS voice_sessions_check_refs ON public.voice_sessions;
CREATE TRIGGER voice_sessions_check_refs
    BEFORE INSERT OR UPDATE OF config_id, workspace_id, org_id ON public.voice_sessions
    FOR EACH ROW EXECUTE FUNCTION public.voice_sessions_check_refs();

DROP TRIGGER IF EXISTS voice_sessions_forbid_org_change ON public.voice_sessions;
CREATE TRIGGER voice_sessions_forbid_org_change
    BEFORE UPDATE OF org_id ON public.voice_sessions
    FOR EACH ROW EXECUTE FUNCTION public.voice_forbid_org_change();

-- "Session creator or org admin" (and the creator must still be a member), reused by the policies of
-- voice_sessions and voice_session_kb and callable by services. Plain SQL, SECURITY INVOKER: the
-- caller's own RLS on voice_sessions applies inside it, and the planner can inline it.
CREATE OR REPLACE FUNCTION public.can_manage_voice_session(p_session_id uuid) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (
        SELECT 1 FROM public.voice_sessions s
        WHERE s.id = p_session_id
          AND ((s.created_by = auth.uid() AND public.is_org_member(s.org_id)) OR public.is_org_admin(s.org_id))
    )
$$;
REVOKE ALL ON FUNCTION public.can_manage_voice_session(uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.can_manage_voice_session(uuid) TO authenticated, service_role;

-- Access: members read; members create their own; creator or admin update/delete.
ALTER TABLE public.voice_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_sessions FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_sessions FROM PUBLIC, anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.voice_sessions TO authenticated;
GRANT ALL ON public.voice_sessions TO service_role;

DROP POLICY IF EXISTS voice_sessions_select_policy ON public.voice_sessions;
CREATE POLICY voice_sessions_select_policy ON public.voice_sessions
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

DROP POLICY IF EXISTS voice_sessions_insert_policy ON public.voice_sessions;
CREATE POLICY voice_sessions_insert_policy ON public.voice_sessions
    FOR INSERT TO authenticated
    WITH CHECK (created_by = (SELECT auth.uid()) AND public.is_org_member(org_id));

DROP POLICY IF EXISTS voice_sessions_update_policy ON public.voice_sessions;
CREATE POLICY voice_sessions_update_policy ON public.voice_sessions
    FOR UPDATE TO authenticated
    USING ((created_by = (SELECT auth.uid()) AND public.is_org_member(org_id)) OR public.is_org_admin(org_id))
    WITH CHECK ((created_by = (SELECT auth.uid()) AND public.is_org_member(org_id)) OR public.is_org_admin(org_id));

DROP POLICY IF EXISTS voice_sessions_delete_policy ON public.voice_sessions;
CREATE POLICY voice_sessions_delete_policy ON public.voice_sessions
    FOR DELETE TO authenticated
    USING ((created_by = (SELECT auth.uid()) AND public.is_org_member(org_id)) OR public.is_org_admin(org_id));

COMMENT ON TABLE public.voice_sessions IS 'Voice interview sessions with Daily.co room details';
COMMENT ON COLUMN public.voice_sessions.org_id IS 'Organization ID for multi-tenancy';
COMMENT ON COLUMN public.voice_sessions.status IS
    'pending -> ready -> active -> completed/failed/cancelled (enforced by trigger, SQLSTATE VS409)';
COMMENT ON COLUMN public.voice_sessions.daily_room_token IS 'Daily.co participant token (expires after 24h)';
COMMENT ON COLUMN public.voice_sessions.bot_room_token IS 'Daily.co token of the bot; never returned by the API';
COMMENT ON COLUMN public.voice_sessions.dispatch_mode IS 'pool (SQS standby bot) or task (ECS run_task)';
COMMENT ON COLUMN public.voice_sessions.dispatch_ref IS 'SQS message id or ECS task ARN of the dispatched bot';
