-- module-voice compat 001: the Supabase roles and the auth schema the module relies on.
--
-- Supabase (and the CORA platform on top of it) already has all of this. These statements only create
-- what is absent, so the file is a no-op on a real Supabase database and builds a faithful stand-in on
-- a plain PostgreSQL (local stack, tests). Nothing here replaces or removes an existing object.

-- Roles ----------------------------------------------------------------------------------------------
DO $compat$
DECLARE
    r text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        -- Supabase's service_role bypasses row-level security; background jobs rely on that.
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;

    -- The connecting role must be able to `SET LOCAL ROLE` to each API role, as Supabase's
    -- authenticator role can. Superusers already can; others get the membership where they may grant
    -- it (a role's creator may). Elsewhere the platform manages memberships: warn, don't fail.
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT pg_has_role(current_user, r, 'MEMBER') THEN
            BEGIN
                EXECUTE format('GRANT %I TO %I', r, current_user);
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE WARNING 'module-voice: % cannot grant itself role %; SET ROLE % will fail for it',
                    current_user, r, r;
            END;
        END IF;
    END LOOP;
END
$compat$;

-- Schema auth ----------------------------------------------------------------------------------------
DO $compat$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'auth') THEN
        CREATE SCHEMA auth;
        -- As in Supabase: the API roles may call auth.uid() & co. inside policies.
        GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
    END IF;
END
$compat$;

CREATE TABLE IF NOT EXISTS auth.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- auth.uid(), auth.role(), auth.jwt(): same definitions as Supabase, reading the claims PostgREST (and
-- access_common.db) put in `request.jwt.claims`. `nullif(.., '')` because a LOCAL setting reads back
-- as '' (not NULL) once its transaction has ended.
DO $compat$
BEGIN
    IF to_regprocedure('auth.uid()') IS NULL THEN
        EXECUTE $fn$
            CREATE FUNCTION auth.uid() RETURNS uuid
            LANGUAGE sql STABLE
            AS $body$
                SELECT coalesce(
                    nullif(current_setting('request.jwt.claim.sub', true), ''),
                    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
                )::uuid
            $body$
        $fn$;
    END IF;
    IF to_regprocedure('auth.role()') IS NULL THEN
        EXECUTE $fn$
            CREATE FUNCTION auth.role() RETURNS text
            LANGUAGE sql STABLE
            AS $body$
                SELECT coalesce(
                    nullif(current_setting('request.jwt.claim.role', true), ''),
                    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
                )::text
            $body$
        $fn$;
    END IF;
    IF to_regprocedure('auth.jwt()') IS NULL THEN
        EXECUTE $fn$
            CREATE FUNCTION auth.jwt() RETURNS jsonb
            LANGUAGE sql STABLE
            AS $body$
                SELECT coalesce(
                    nullif(current_setting('request.jwt.claim', true), ''),
                    nullif(current_setting('request.jwt.claims', true), '')
                )::jsonb
            $body$
        $fn$;
    END IF;
END
$compat$;
