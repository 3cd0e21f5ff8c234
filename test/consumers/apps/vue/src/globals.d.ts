// What the host app brings: a function that fetches a short-lived job token from its own backend.
declare function getJobToken(): Promise<string>;
