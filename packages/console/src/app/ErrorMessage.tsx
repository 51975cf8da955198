import { Component, type ErrorInfo, type ReactNode } from 'react';
import { errorMessage } from './session.tsx';

/** An API error as a message in the page (role="alert" so screen readers announce it). */
export function ErrorMessage({ error, what }: { error: unknown; what?: string }) {
  return (
    <div className="error-box" role="alert">
      {what ? `${what}: ` : ''}
      {errorMessage(error)}
    </div>
  );
}

/** Keeps one failing panel or page from blanking the whole console. */
export class ErrorBoundary extends Component<{ children: ReactNode; label: string }, { error: unknown }> {
  override state: { error: unknown } = { error: undefined };

  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(`${this.props.label} failed`, error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error !== undefined)
      return <ErrorMessage error={this.state.error} what={`${this.props.label} failed`} />;
    return this.props.children;
  }
}
