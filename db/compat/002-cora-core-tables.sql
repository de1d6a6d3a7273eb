-- module-voice compat 002: the CORA core tables module-voice reads (orgs, memberships, profiles,
-- workspaces, knowledge bases).
--
-- Each table is created only when absent, in the minimal shape docs/contracts.md lists. A table created
-- here carries the comment prefix '[module-voice compat]'; compat 003 gives row-level security only to
-- tables with that marker, so a platform's own tables and policies are never touched.

DO $compat$
BEGIN
    IF to_regclass('public.orgs') IS NULL THEN
        CREATE TABLE public.orgs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name text NOT NULL,
            slug text UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE public.orgs IS '[module-voice compat] CORA organizations (tenants)';
    END IF;

    IF to_regclass('public.org_members') IS NULL THEN
        CREATE TABLE public.org_members (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
            user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
            org_role text NOT NULL DEFAULT 'org_user'
                CHECK (org_role IN ('org_user', 'org_admin', 'org_owner')),
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (org_id, user_id)
        );
        CREATE INDEX org_members_user_id_idx ON public.org_members (user_id);
        COMMENT ON TABLE public.org_members IS '[module-voice compat] CORA org memberships and org roles';
    END IF;

    IF to_regclass('public.user_profiles') IS NULL THEN
        CREATE TABLE public.user_profiles (
            user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
            email text,
            full_name text,
            sys_role text NOT NULL DEFAULT 'sys_user'
                CHECK (sys_role IN ('sys_user', 'sys_admin', 'sys_owner')),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE public.user_profiles IS '[module-voice compat] CORA user profiles and platform roles';
    END IF;

    IF to_regclass('public.workspaces') IS NULL THEN
        CREATE TABLE public.workspaces (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX workspaces_org_id_idx ON public.workspaces (org_id);
        COMMENT ON TABLE public.workspaces IS '[module-voice compat] CORA workspaces';
    END IF;

    IF to_regclass('public.kb_bases') IS NULL THEN
        CREATE TABLE public.kb_bases (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            org_id uuid NOT NULL REFERENCES public.orgs (id) ON DELETE CASCADE,
            name text NOT NULL,
            description text,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX kb_bases_org_id_idx ON public.kb_bases (org_id);
        COMMENT ON TABLE public.kb_bases IS '[module-voice compat] CORA knowledge bases (module-kb)';
    END IF;

    IF to_regclass('public.kb_docs') IS NULL THEN
        CREATE TABLE public.kb_docs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            kb_id uuid NOT NULL REFERENCES public.kb_bases (id) ON DELETE CASCADE,
            title text NOT NULL,
            content text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX kb_docs_kb_id_idx ON public.kb_docs (kb_id);
        COMMENT ON TABLE public.kb_docs IS '[module-voice compat] CORA knowledge-base documents (text the bot grounds on)';
    END IF;
END
$compat$;
