/** A form the core asks a platform to show; each adapter renders it (a Slack modal, a Discord modal, a page). */

export type FormKind = "reject" | "edit" | "answer";

export type TextField = {
  kind: "text";
  id: string;
  label: string;
  hint?: string;
  value?: string;
  multiline: boolean;
  optional: boolean;
  /** Most characters the input takes; within the platform's `formInput`. */
  maxLength: number;
};

export type ChoiceField = {
  kind: "choice";
  id: string;
  label: string;
  hint?: string;
  placeholder: string;
  optional: boolean;
  multiple: boolean;
  /** The submission carries the chosen options' `value`s. */
  options: Array<{ label: string; value: string }>;
};

export type FormField = TextField | ChoiceField;

export type Form = {
  kind: FormKind;
  requestId: string;
  title: string;
  submit: string;
  cancel: string;
  /** What the form is about (the card's summary), shown above the inputs. */
  intro: string;
  fields: FormField[];
};

/** A read-only text to show on request (a card body's whole length). */
export type TextView = { title: string; close: string; text: string };

/** A submitted form's values by field id: a text input's string, a choice's chosen option values. */
export type FormValues = Record<string, string | string[] | undefined>;
