import { useId, useState } from "react";
import { useVoiceSessions } from "../../hooks/useVoiceSessions";
import { SESSION_STATUSES, type SessionStatus, type Uuid } from "../../types";
import { EmptyState, ErrorState, LoadingState } from "../common/States";
import { SessionCard } from "./SessionCard";
import { STATUS_LABELS } from "./SessionStatusBadge";

/** An organization's interviews, newest first, with a status filter and paging. */
export function SessionList({ orgId, pageSize = 20 }: { orgId: Uuid; pageSize?: number }) {
  const [status, setStatus] = useState<SessionStatus | "">("");
  const [sortOrder, setSortOrder] = useState<"desc" | "asc">("desc");
  const [offset, setOffset] = useState(0);
  const ids = useId();
  const query = useVoiceSessions({ orgId, status: status || undefined, sortOrder, limit: pageSize, offset });
  const page = query.data;
  const total = page?.pagination.total ?? 0;

  return (
    <section className="voice-section" aria-labelledby={`${ids}-title`}>
      <div className="voice-section__header">
        <h2 id={`${ids}-title`}>Interviews</h2>
        <div className="voice-filters">
          <label htmlFor={`${ids}-status`}>Status</label>
          <select
            id={`${ids}-status`}
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as SessionStatus | "");
              setOffset(0);
            }}
          >
            <option value="">All</option>
            {SESSION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
          <label htmlFor={`${ids}-order`}>Order</label>
          <select
            id={`${ids}-order`}
            value={sortOrder}
            onChange={(e) => {
              setSortOrder(e.target.value as "asc" | "desc");
              setOffset(0);
            }}
          >
            <option value="desc">Newest first</option>
            <option value="asc">Oldest first</option>
          </select>
        </div>
      </div>
      {query.isPending ? <LoadingState label="Loading interviews…" /> : null}
      {query.isError ? <ErrorState error={query.error} title="Interviews could not be loaded" onRetry={() => void query.refetch()} /> : null}
      {page && page.items.length === 0 ? (
        <EmptyState>{status ? "No interviews with this status." : "No interviews yet. Create one to get started."}</EmptyState>
      ) : null}
      {page && page.items.length > 0 ? (
        <>
          <ul className="voice-list" aria-busy={query.isFetching}>
            {page.items.map((session) => (
              <li key={session.id}>
                <SessionCard session={session} />
              </li>
            ))}
          </ul>
          <nav className="voice-pager" aria-label="Interview pages">
            <button type="button" className="voice-button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - pageSize))}>
              Previous
            </button>
            <span>
              {offset + 1}–{offset + page.items.length} of {total}
            </span>
            <button type="button" className="voice-button" disabled={!page.pagination.hasMore} onClick={() => setOffset(offset + pageSize)}>
              Next
            </button>
          </nav>
        </>
      ) : null}
    </section>
  );
}
