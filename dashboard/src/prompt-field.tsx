/** A labelled prompt box and its submit button: the start-a-job and continue-a-job forms share it. */
export function PromptField({
  id,
  label,
  rows,
  busy,
  submit,
}: {
  id: string;
  label: string;
  rows: number;
  busy: boolean;
  submit: string;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <textarea id={id} name="prompt" rows={rows} required />
      <button type="submit" disabled={busy}>
        {submit}
      </button>
    </>
  );
}
