// What the documentation's snippets use without defining it: the host app's own functions and values.
declare function getJobToken(): Promise<string>;
declare function toast(message: string): void;
declare function renderPanel(jobs: readonly import('@jobtracker/sdk').Job[]): void;
declare const currentUserId: string;
