/** What every view gets from the page frame, and gives back. */
import type { StreamStatus } from './live-stream.js'

/** The frame's services for a view. */
export interface ViewContext {
  /** Shows the live stream's state in the header. */
  streamStatus(status: StreamStatus | undefined): void
  /** The token was refused: back to the sign-in form. */
  signInAgain(): void
  /** The view shows its first data: marks the page interactive (once, for the Performance API). */
  ready(): void
}

/** A mounted view; `dispose` stops its stream and timers when the page moves on. */
export type Dispose = () => void
