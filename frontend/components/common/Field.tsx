import { useId, type ReactNode } from "react";

export interface FieldRenderProps {
  id: string;
  "aria-invalid": boolean;
  "aria-describedby": string | undefined;
}

/**
 * A labelled form control with its hint and inline error wired for assistive technology
 * (`aria-invalid`, `aria-describedby`). `children` renders the control with the given props.
 */
export function Field({
  label,
  error,
  hint,
  required,
  className,
  children,
}: {
  label: ReactNode;
  error?: string | null | undefined;
  hint?: ReactNode;
  required?: boolean;
  className?: string;
  children: (props: FieldRenderProps) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`voice-field${error ? " voice-field--invalid" : ""}${className ? ` ${className}` : ""}`}>
      <label htmlFor={id} className="voice-field__label">
        {label}
        {required ? (
          <span className="voice-required" aria-hidden="true">
            {" "}
            *
          </span>
        ) : null}
      </label>
      {children({ id, "aria-invalid": Boolean(error), "aria-describedby": describedBy })}
      {hint ? (
        <span id={hintId} className="voice-field__hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={errorId} className="voice-field__error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/** Errors the form has no control for, listed above the buttons. */
export function FormErrors({ message, unplaced }: { message?: string | null; unplaced: Array<[string, string]> }) {
  if (!message && unplaced.length === 0) return null;
  return (
    <div className="voice-error" role="alert">
      {message ? <p>{message}</p> : null}
      {unplaced.length > 0 ? (
        <ul>
          {unplaced.map(([field, text]) => (
            <li key={field}>
              <code>{field}</code>: {text}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
