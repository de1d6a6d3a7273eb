-- module-voice schema 009: RPC functions (seed 2.6, fixed).
--
-- The seed declared them SECURITY DEFINER, which bypasses row-level security: any caller could read
-- any org's session or statistics by id. Here they are SECURITY INVOKER, so the caller's policies
-- apply: a session the caller may not see yields NULL, another org's statistics yield zeros.

-- A session with its configuration, transcript and analytics (NULL when not visible to the caller).
-- The bot's secrets (bot_room_token, and bot_token_hash of schema 020) are never part of the result.
CREATE OR REPLACE FUNCTION public.get_voice_session_details(p_session_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
    SELECT jsonb_build_object(
        'session', to_jsonb(s) - 'bot_room_token' - 'bot_token_hash',
        'config', to_jsonb(c),
        'transcript', to_jsonb(t),
        'analytics', to_jsonb(a)
    )
    FROM public.voice_sessions s
    LEFT JOIN public.voice_configs c ON c.id = s.config_id
    LEFT JOIN public.voice_transcripts t ON t.session_id = s.id
    LEFT JOIN public.voice_analytics a ON a.session_id = s.id
    WHERE s.id = p_session_id
$$;

-- Organization statistics over the sessions the caller can see (all of the org's for a member).
CREATE OR REPLACE FUNCTION public.get_org_voice_stats(p_org_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
    SELECT jsonb_build_object(
        'total_sessions', count(*),
        'completed_sessions', count(*) FILTER (WHERE s.status = 'completed'),
        'avg_duration_seconds', round(avg(s.duration_seconds) FILTER (WHERE s.status = 'completed')),
        'avg_score', round(avg(a.overall_score), 1),
        'sessions_this_month', count(*) FILTER (WHERE s.created_at >= date_trunc('month', now()))
    )
    FROM public.voice_sessions s
    LEFT JOIN public.voice_analytics a ON a.session_id = s.id
    WHERE s.org_id = p_org_id
$$;

-- Change a session's status through the status-machine trigger (which validates the transition,
-- sets the timestamps and writes the audit row). Returns false when the session does not exist or
-- the caller may not update it (creator or org admin); an illegal transition raises VS409.
CREATE OR REPLACE FUNCTION public.update_voice_session_status(
    p_session_id uuid,
    p_new_status text,
    p_user_id uuid
) RETURNS boolean
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
    UPDATE public.voice_sessions
    SET status = p_new_status,
        updated_by = coalesce(p_user_id, auth.uid(), updated_by)
    WHERE id = p_session_id;
    RETURN FOUND;
END
$$;

REVOKE ALL ON FUNCTION public.get_voice_session_details(uuid) FROM PUBLIC, anon;
REVOKE ALL ON FUNCTION public.get_org_voice_stats(uuid) FROM PUBLIC, anon;
REVOKE ALL ON FUNCTION public.update_voice_session_status(uuid, text, uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.get_voice_session_details(uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_org_voice_stats(uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.update_voice_session_status(uuid, text, uuid) TO authenticated, service_role;
