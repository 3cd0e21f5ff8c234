/** The host app's own notification, as docs/widget.md's Vue snippet imports it. */
export function toast(message: string): void {
  document.title = message;
}
