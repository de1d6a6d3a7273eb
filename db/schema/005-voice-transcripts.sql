-- module-voice schema 005: transcripts.
--   voice_transcripts          the assembled transcript of a session (seed 2.2), one per session
--   voice_transcript_segments  each final utterance as the bot publishes it, persisted before it is
--                              pushed to subscribers, so a bot crash loses nothing (contracts.md)

CREATE TABLE IF NOT EXISTS public.voice_transcripts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
    session_id uuid NOT NULL REFERENCES public.voice_sessions (id) ON DELETE CASCADE,
    transcript_text text,
    transcript_s3_url text,
    candidate_name varchar(255),
    interview_type varchar(100),
    summary text,
    word_count integer,
    speaker_segments jsonb NOT NULL DEFAULT '[]',
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid NOT NULL REFERENCES auth.users (id),
    updated_by uuid REFERENCES auth.users (id)
);

DO $schema$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        -- One transcript per session: the completion job is retried (SQS, at least once) and upserts.
        ('voice_transcripts_session_unique', $c$UNIQUE (session_id)$c$),
        ('voice_transcripts_word_count_check', $c$CHECK (word_count IS NULL OR word_count >= 0)$c$),
        ('voice_transcripts_s3_url_check',
         $c$CHECK (transcript_s3_url IS NULL OR transcript_s3_url ~ '^(s3://[a-z0-9][a-z0-9.-]*[a-z0-9]/.+|https://[^/[:space:]]+/.+)$')$c$),
        ('voice_transcripts_speaker_segments_array', $c$CHECK (jsonb_typeof(speaker_segments) = 'array')$c$),
        ('voice_transcripts_metadata_object', $c$CHECK (jsonb_typeof(metadata) = 'object')$c$)
    ) AS v(name, definition) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = 'public.voice_transcripts'::regclass AND conname = c.name) THEN
            EXECUTE format('ALTER TABLE public.voice_transcripts ADD CONSTRAINT %I %s', c.name, c.definition);
        END IF;
    END LOOP;
END
$schema$;

CREATE INDEX IF NOT EXISTS idx_voice_transcripts_org_id ON public.voice_transcripts (org_id);
CREATE INDEX IF NOT EXISTS idx_voice_transcripts_session_id ON public.voice_transcripts (session_id);
CREATE INDEX IF NOT EXISTS idx_voice_transcripts_created_at ON public.voice_transcripts (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_voice_transcripts_org_created_at ON public.voice_transcripts (org_id, created_at DESC);

DROP TRIGGER IF EXISTS update_voice_transcripts_updated_at ON public.voice_transcripts;
DROP TRIGGER IF EXISTS voice_transcripts_set_updated_at ON public.voice_transcripts;
CREATE TRIGGER voice_transcripts_set_updated_at
    BEFORE UPDATE ON public.voice_transcripts
    FOR EACH ROW EXECUTE FUNCTION public.voice_set_updated_at();

DROP TRIGGER IF EXISTS voice_transcripts_session_org ON public.voice_transcripts;
CREATE TRIGGER voice_transcripts_session_org
    BEFORE INSERT OR UPDATE OF session_id, org_id ON public.voice_transcripts
    FOR EACH ROW EXECUTE FUNCTION public.voice_inherit_session_org();

-- Access: members read, org admins delete; written by the completion job (service_role).
ALTER TABLE public.voice_transcripts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_transcripts FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_transcripts FROM PUBLIC, anon, authenticated;
GRANT SELECT, DELETE ON public.voice_transcripts TO authenticated;
GRANT ALL ON public.voice_transcripts TO service_role;

DROP POLICY IF EXISTS voice_transcripts_select_policy ON public.voice_transcripts;
CREATE POLICY voice_transcripts_select_policy ON public.voice_transcripts
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

-- The seed let any member insert/update transcripts; they are machine-written (service_role only).
DROP POLICY IF EXISTS voice_transcripts_insert_policy ON public.voice_transcripts;
DROP POLICY IF EXISTS voice_transcripts_update_policy ON public.voice_transcripts;

DROP POLICY IF EXISTS voice_transcripts_delete_policy ON public.voice_transcripts;
CREATE POLICY voice_transcripts_delete_policy ON public.voice_transcripts
    FOR DELETE TO authenticated
    USING (public.is_org_admin(org_id));

COMMENT ON TABLE public.voice_transcripts IS 'Interview transcripts with S3 archival (one per session)';
COMMENT ON COLUMN public.voice_transcripts.speaker_segments IS 'JSON array of speaker segments with timestamps';


CREATE TABLE IF NOT EXISTS public.voice_transcript_segments (
    id bigserial PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES public.voice_sessions (id) ON DELETE CASCADE,
    org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    speaker text NOT NULL,
    text text NOT NULL,
    start_time double precision,
    end_time double precision,
    confidence double precision,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The bot numbers its segments; a re-sent segment is a duplicate, not a new line.
    CONSTRAINT voice_transcript_segments_session_seq_unique UNIQUE (session_id, seq)
);

DO $schema$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('voice_transcript_segments_seq_check', $c$CHECK (seq >= 0)$c$),
        ('voice_transcript_segments_speaker_check', $c$CHECK (speaker IN ('bot', 'candidate'))$c$),
        ('voice_transcript_segments_text_length', $c$CHECK (char_length(text) BETWEEN 1 AND 10000)$c$),
        ('voice_transcript_segments_start_time_check', $c$CHECK (start_time IS NULL OR start_time >= 0)$c$),
        ('voice_transcript_segments_end_time_check',
         $c$CHECK (end_time IS NULL OR (end_time >= 0 AND (start_time IS NULL OR end_time >= start_time)))$c$),
        ('voice_transcript_segments_confidence_check',
         $c$CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1))$c$)
    ) AS v(name, definition) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = 'public.voice_transcript_segments'::regclass AND conname = c.name) THEN
            EXECUTE format('ALTER TABLE public.voice_transcript_segments ADD CONSTRAINT %I %s',
                           c.name, c.definition);
        END IF;
    END LOOP;
END
$schema$;

-- (session_id, seq) is served by the unique constraint's index.
CREATE INDEX IF NOT EXISTS idx_voice_transcript_segments_org_id ON public.voice_transcript_segments (org_id);

DROP TRIGGER IF EXISTS voice_transcript_segments_session_org ON public.voice_transcript_segments;
CREATE TRIGGER voice_transcript_segments_session_org
    BEFORE INSERT OR UPDATE OF session_id, org_id ON public.voice_transcript_segments
    FOR EACH ROW EXECUTE FUNCTION public.voice_inherit_session_org();

-- Access: members read; written by the bot path (service_role) only.
ALTER TABLE public.voice_transcript_segments ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_transcript_segments FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_transcript_segments FROM PUBLIC, anon, authenticated;
REVOKE ALL ON SEQUENCE public.voice_transcript_segments_id_seq FROM PUBLIC, anon, authenticated;
GRANT SELECT ON public.voice_transcript_segments TO authenticated;
GRANT ALL ON public.voice_transcript_segments TO service_role;
GRANT USAGE, SELECT ON SEQUENCE public.voice_transcript_segments_id_seq TO service_role;

DROP POLICY IF EXISTS voice_transcript_segments_select_policy ON public.voice_transcript_segments;
CREATE POLICY voice_transcript_segments_select_policy ON public.voice_transcript_segments
    FOR SELECT TO authenticated
    USING (public.is_org_member(org_id));

COMMENT ON TABLE public.voice_transcript_segments IS
    'Live transcript segments, persisted as the bot publishes them; unique per (session_id, seq)';
