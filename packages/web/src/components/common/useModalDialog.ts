import { useEffect, useRef } from 'react';

/** A `<dialog>` shown modally while `open` (focus trapped, Escape closes it) and closed otherwise. */
export function useModalDialog(open: boolean) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal?.();
    if (!open && d.open) d.close();
  }, [open]);
  return dialog;
}
