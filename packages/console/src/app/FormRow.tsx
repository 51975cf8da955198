import type { FormEvent, ReactNode } from 'react';

/**
 * A form laid out as one wrapping row of labelled fields with its buttons at their foot (new
 * user, new token, report, event filter). Submitting does not reload the page: `onSubmit` runs.
 */
export function FormRow({
  label,
  onSubmit,
  className = '',
  role,
  children,
}: {
  /** The form's accessible name. */
  label: string;
  onSubmit: () => unknown;
  className?: string;
  role?: 'search';
  children: ReactNode;
}) {
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    void onSubmit();
  };
  return (
    <form className={`row form-row ${className}`.trim()} onSubmit={submit} aria-label={label} role={role}>
      {children}
    </form>
  );
}
