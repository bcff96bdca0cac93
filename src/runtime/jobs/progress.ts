/**
 * Where a long job is, reported as it goes. `done` and `total` count the phase's own unit: commit
 * records (`fetch-log`), frames (`download`), bytes (`upload`), pages (`read`, `write`); `total` is
 * undefined where it is not known ahead. `bytes`: bytes moved over the network (or written) so far.
 */
export interface JobProgress {
  readonly phase: ProgressPhase;
  readonly done: number;
  readonly total: number | undefined;
  readonly bytes: number;
}

/** `commit`: the remote commit object is being written (a push); `done`: the job finished. */
export type ProgressPhase = 'fetch-log' | 'download' | 'upload' | 'commit' | 'read' | 'write' | 'done';
