// What the host app brings: a function that fetches a short-lived job token from its own backend.
declare global {
  var getJobToken: () => Promise<string>;
}

export {};

globalThis.getJobToken = async () => {
  const response = await fetch('/token');
  const { token } = (await response.json()) as { token: string };
  return token;
};
