-- Candidate erasure: deleting a transcript (org admins) also deletes the live segments it was assembled
-- from; otherwise a re-delivered completion job or an analytics regenerate would rebuild it.
-- Idempotent: grants and policies are (re)created, nothing is dropped but the policy it replaces.

GRANT DELETE ON public.voice_transcript_segments TO authenticated;

DROP POLICY IF EXISTS voice_transcript_segments_delete_policy ON public.voice_transcript_segments;
CREATE POLICY voice_transcript_segments_delete_policy ON public.voice_transcript_segments
    FOR DELETE TO authenticated
    USING (public.is_org_admin(org_id));
