/** What worker/entry.ts posts when the worker's modules fail to load; src/client reads it (type only). */
export interface WorkerLoadFailed {
  scionWorkerLoadFailed: {
    /** The URL of the entry script that failed to load its modules. */
    url: string;
    /** The error's name and message, e.g. SyntaxError: … does not provide an export named 'default'. */
    name: string;
    message: string;
  };
}
