-- module-voice compat 003: the CORA role helper functions used by module-voice's policies, and
-- row-level security for the compat tables this module created (marker '[module-voice compat]').
--
-- The helpers are SECURITY DEFINER so that a policy can consult org_members/user_profiles without the
-- caller needing (or getting) direct access to them, STABLE so the planner may evaluate them once per
-- row set, and pinned to an empty search_path (every name is schema-qualified) against hijacking.
-- A platform that already defines them keeps its own definitions.

DO $compat$
BEGIN
    IF to_regprocedure('public.is_sys_admin()') IS NULL THEN
        EXECUTE $fn$
            CREATE FUNCTION public.is_sys_admin() RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
            AS $body$
                SELECT EXISTS (
                    SELECT 1 FROM public.user_profiles p
                    WHERE p.user_id = auth.uid() AND p.sys_role IN ('sys_admin', 'sys_owner')
                )
            $body$
        $fn$;
    END IF;

    IF to_regprocedure('public.is_org_member(uuid)') IS NULL THEN
        EXECUTE $fn$
            CREATE FUNCTION public.is_org_member(p_org_id uuid) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
            AS $body$
                SELECT EXISTS (
                    SELECT 1 FROM public.org_members m
                    WHERE m.org_id = p_org_id AND m.user_id = auth.uid() AND m.active
                )
            $body$
        $fn$;
    END IF;

    IF to_regprocedure('public.is_org_admin(uuid)') IS NULL THEN
        EXECUTE $fn$
            CREATE FUNCTION public.is_org_admin(p_org_id uuid) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
            AS $body$
                SELECT EXISTS (
                    SELECT 1 FROM public.org_members m
                    WHERE m.org_id = p_org_id AND m.user_id = auth.uid() AND m.active
                      AND m.org_role IN ('org_admin', 'org_owner')
                )
            $body$
        $fn$;
    END IF;

    IF to_regprocedure('public.is_org_owner(uuid)') IS NULL THEN
        EXECUTE $fn$
            CREATE FUNCTION public.is_org_owner(p_org_id uuid) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
            AS $body$
                SELECT EXISTS (
                    SELECT 1 FROM public.org_members m
                    WHERE m.org_id = p_org_id AND m.user_id = auth.uid() AND m.active
                      AND m.org_role = 'org_owner'
                )
            $body$
        $fn$;
    END IF;
END
$compat$;

-- Row-level security for the compat tables created by compat 002: members read their org's rows,
-- anon reads nothing, writes belong to the platform (service_role). Policies are recreated on every
-- run (no data involved); grants are re-stated so a changed file converges.
DO $compat$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['orgs', 'org_members', 'user_profiles', 'workspaces', 'kb_bases', 'kb_docs'] LOOP
        IF coalesce(obj_description(format('public.%I', t)::regclass, 'pg_class'), '')
                LIKE '[module-voice compat]%' THEN
            EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
            EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC, anon, authenticated', t);
            EXECUTE format('GRANT SELECT ON public.%I TO authenticated', t);
            EXECUTE format('GRANT ALL ON public.%I TO service_role', t);
            EXECUTE format('DROP POLICY IF EXISTS %I ON public.%I', t || '_select_member', t);
            EXECUTE format(
                'CREATE POLICY %I ON public.%I FOR SELECT TO authenticated USING (%s)',
                t || '_select_member', t,
                CASE t
                    WHEN 'orgs' THEN 'public.is_org_member(id)'
                    WHEN 'org_members' THEN 'user_id = auth.uid() OR public.is_org_member(org_id)'
                    -- Own profile, and the profiles of the people one shares an org with.
                    WHEN 'user_profiles' THEN
                        'user_id = auth.uid() OR EXISTS (SELECT 1 FROM public.org_members m '
                        'WHERE m.user_id = user_profiles.user_id AND m.active AND public.is_org_member(m.org_id))'
                    WHEN 'kb_docs' THEN
                        'EXISTS (SELECT 1 FROM public.kb_bases b '
                        'WHERE b.id = kb_docs.kb_id AND public.is_org_member(b.org_id))'
                    ELSE 'public.is_org_member(org_id)'
                END
            );
        END IF;
    END LOOP;
END
$compat$;
