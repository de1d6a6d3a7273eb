-- module-voice schema 020: bot dispatch bookkeeping (docs/orchestration.md).
--
-- 003 has the dispatch columns of docs/contracts.md (dispatch_mode, dispatch_ref, dispatched_at,
-- bot_joined_at, last_heartbeat_at, failure_reason, bot_room_token). This adds what the standby-pool
-- hand-over needs:
--   bot_claimed_at        the bot of the current dispatch reported in (its first heartbeat, or joined):
--                         from then on the pool pickup check leaves the session alone
--   dispatch_fallback_at  the pooled request was not claimed in time and voice-events ran an ECS task
--   bot_token_hash        sha256 of the bot token of the current dispatch: after a fallback the pooled
--                         request's token is superseded, so a standby bot that takes the stale request
--                         late is told (409) to leave instead of joining as a second bot. Never returned.
-- Idempotent: ADD COLUMN IF NOT EXISTS, indexes IF NOT EXISTS; nothing is dropped.

ALTER TABLE public.voice_sessions
    ADD COLUMN IF NOT EXISTS bot_claimed_at timestamptz,
    ADD COLUMN IF NOT EXISTS dispatch_fallback_at timestamptz,
    ADD COLUMN IF NOT EXISTS bot_token_hash text;

COMMENT ON COLUMN public.voice_sessions.bot_claimed_at IS
    'When the dispatched bot first reported in (first heartbeat or joined); the pickup check then stands down';
COMMENT ON COLUMN public.voice_sessions.bot_token_hash IS
    'sha256 (hex) of the current dispatch''s bot token; callbacks with another token are refused. Never returned';
COMMENT ON COLUMN public.voice_sessions.dispatch_fallback_at IS
    'When an unclaimed pooled request fell back to ECS run_task';

-- The watchdog's "bot never joined" scan: ready sessions by dispatch time (the live index of 003 covers
-- the heartbeat scan of active sessions).
CREATE INDEX IF NOT EXISTS idx_voice_sessions_ready_dispatched
    ON public.voice_sessions (dispatched_at)
    WHERE status = 'ready';
