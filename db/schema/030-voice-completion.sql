-- module-voice schema 030: what the voice-worker's completion, analytics and retention jobs need.
-- (voice_transcripts is already unique per session: 005, voice_transcripts_session_unique.)

-- Retention deletes segments by age in bounded batches (voice_common/retention.py); without this index
-- every batch would scan the largest table of the module.
CREATE INDEX IF NOT EXISTS idx_voice_transcript_segments_created_at
    ON public.voice_transcript_segments (created_at);
