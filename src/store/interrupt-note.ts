/**
 * What an interrupt leaves standing, when a command already made its change and only a
 * post-* hook is running (README, Interrupts): the CLI's signal handler says this instead
 * of "nothing half-written was left", so the user knows the change stands.
 */
let note: string | null = null;

/** Sets (or with null clears) the note; set it only around work after the change is recorded. */
export function setInterruptNote(text: string | null): void {
  note = text;
}

/** The note, or null when an interrupt now leaves nothing changed. */
export function interruptNote(): string | null {
  return note;
}
