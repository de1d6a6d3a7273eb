-- Candidate erasure, continued: the analytics of a session whose transcript is deleted keep their scores
-- (and strengths/weaknesses), but not the candidate's words: each key moment loses its verbatim `quote`,
-- and the narrative `summary` goes (a retelling of the interview). Done by the database, so every path that
-- deletes a transcript (DELETE /transcripts, the retention job, a session delete cascade) erases them.
--
-- SECURITY DEFINER: the deleting admin may not write analytics (machine-written, service_role only);
-- the trigger changes exactly the rows of the deleted transcript's session. Idempotent (CREATE OR REPLACE,
-- DROP TRIGGER IF EXISTS).

CREATE OR REPLACE FUNCTION public.voice_erase_analytics_quotes() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    UPDATE public.voice_analytics a
       SET key_moments = (
               SELECT coalesce(jsonb_agg(m - 'quote' ORDER BY n), '[]'::jsonb)
                 FROM jsonb_array_elements(a.key_moments) WITH ORDINALITY AS e(m, n)
           ),
           detailed_analysis = CASE
               WHEN a.detailed_analysis ? 'summary'
                   THEN (a.detailed_analysis - 'summary') || '{"erased": true}'::jsonb
               ELSE a.detailed_analysis
           END
     WHERE a.session_id = OLD.session_id
       AND (a.detailed_analysis ? 'summary' OR jsonb_path_exists(a.key_moments, '$[*].quote'));
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION public.voice_erase_analytics_quotes() FROM PUBLIC;

DROP TRIGGER IF EXISTS voice_transcripts_erase_analytics_quotes ON public.voice_transcripts;
CREATE TRIGGER voice_transcripts_erase_analytics_quotes
    AFTER DELETE ON public.voice_transcripts
    FOR EACH ROW EXECUTE FUNCTION public.voice_erase_analytics_quotes();
