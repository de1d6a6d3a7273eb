-- module-voice schema 006: voice_analytics, the LLM scoring of a session (seed 2.5), one per session,
-- plus the job state and measurements of docs/contracts.md (status, error, metrics, usage).

CREATE TABLE IF NOT EXISTS public.voice_analytics (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
    session_id uuid NOT NULL REFERENCES public.voice_sessions (id) ON DELETE CASCADE,
    transcript_id uuid REFERENCES public.voice_transcripts (id) ON DELETE SET NULL,
    overall_score numeric(5, 2),
    category_scores jsonb NOT NULL DEFAULT '{}',
    strengths text[] NOT NULL DEFAULT '{}',
    weaknesses text[] NOT NULL DEFAULT '{}',
    recommendations text[] NOT NULL DEFAULT '{}',
    key_moments jsonb NOT NULL DEFAULT '[]',
    detailed_analysis jsonb NOT NULL DEFAULT '{}',
    model_used varchar(100),
    processing_time_ms integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid NOT NULL REFERENCES auth.users (id),
    CONSTRAINT voice_analytics_session_unique UNIQUE (session_id),
    CONSTRAINT voice_analytics_score_check CHECK (
        overall_score IS NULL OR (overall_score >= 0 AND overall_score <= 100)
    )
);

ALTER TABLE public.voice_analytics
    ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'pending',
    ADD COLUMN IF NOT EXISTS error text,
    ADD COLUMN IF NOT EXISTS metrics jsonb NOT NULL DEFAULT '{}',   -- deterministic conversation metrics
    ADD COLUMN IF NOT EXISTS usage jsonb NOT NULL DEFAULT '{}';     -- LLM token usage / cost

DO $schema$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('voice_analytics_status_check',
         $c$CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped'))$c$),
        ('voice_analytics_processing_time_check', $c$CHECK (processing_time_ms IS NULL OR processing_time_ms >= 0)$c$),
        ('voice_analytics_error_length', $c$CHECK (error IS NULL OR char_length(error) <= 4000)$c$),
        ('voice_analytics_category_scores_object', $c$CHECK (jsonb_typeof(category_scores) = 'object')$c$),
        ('voice_analytics_key_moments_array', $c$CHECK (jsonb_typeof(key_moments) = 'array')$c$),
        ('voice_analytics_metrics_object', $c$CHECK (jsonb_typeof(metrics) = 'object')$c$),
        ('voice_analytics_usage_object', $c$CHECK (jsonb_typeof(usage) = 'object')$c$)
    ) AS v(name, definition) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = 'public.voice_analytics'::regclass AND conname = c.name) THEN
            EXECUTE format('ALTER TABLE public.voice_analytics ADD CONSTRAINT %I %s', c.name, c.definition);
        END IF;
    END LOOP;
END
$schema$;

CREATE INDEX IF NOT EXISTS idx_voice_analytics_org_id ON public.voice_analytics (org_id);
CREATE INDEX IF NOT EXISTS idx_voice_analytics_session_id ON public.voice_analytics (session_id);
CREATE INDEX IF NOT EXISTS idx_voice_analytics_transcript_id ON public.voice_analytics (transcript_id);
CREATE INDEX IF NOT EXISTS idx_voice_analytics_overall_score ON public.voice_analytics (overall_score DESC);
-- Jobs still to run (retries, the regenerate route).
CREATE INDEX IF NOT EXISTS idx_voice_analytics_unfinished ON public.voice_analytics (status)
    WHERE status IN ('pending', 'running');

DROP TRIGGER IF EXISTS update_voice_analytics_updated_at ON public.voice_analytics;
DROP TRIGGER IF EXISTS voice_analytics_set_updated_at ON public.voice_analytics;
CREATE TRIGGER voice_analytics_set_updated_at
    BEFORE UPDATE ON public.voice_analytics
    FOR EACH ROW EXECUTE FUNCTION public.voice_set_updated_at();

DROP TRIGGER IF EXISTS voice_analytics_session_org ON public.voice_analytics;
CREATE TRIGGER voice_analytics_session_org
    BEFORE INSERT OR UPDATE OF session_id, org_id ON public.voice_analytics
    FOR EACH ROW EXECUTE FUNCTION public.voice_inherit_session_org();

-- Access: members read; the analytics job (service_role) writes.
ALTER TABLE public.voice_analytics ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_analytics FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_analytics FROM PUBLIC, anon, authenticated;
GRANT SELECT ON public.voice_analytics TO authenticated;
GRANT ALL ON public.voice_analytics TO service_role;

DROP POLICY IF EXISTS voice_analytics_select_policy ON public.voice_analytics;
CREATE POLICY voice_analytics_select_policy ON public.voice_analytics
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

-- The seed let members write analytics; scores are machine-written (service_role only).
DROP POLICY IF EXISTS voice_analytics_insert_policy ON public.voice_analytics;
DROP POLICY IF EXISTS voice_analytics_update_policy ON public.voice_analytics;
DROP POLICY IF EXISTS voice_analytics_delete_policy ON public.voice_analytics;

COMMENT ON TABLE public.voice_analytics IS 'AI-generated interview analysis and scoring (one per session)';
COMMENT ON COLUMN public.voice_analytics.category_scores IS 'JSON object with scores per evaluation category';
COMMENT ON COLUMN public.voice_analytics.status IS 'Analytics job: pending, running, completed, failed, skipped';
