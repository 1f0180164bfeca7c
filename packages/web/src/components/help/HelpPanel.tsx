import { useModalDialog } from '../common/useModalDialog';
import { SHORTCUTS } from '../player/useShortcuts';

export function HelpPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dialog = useModalDialog(open);
  return (
    <dialog ref={dialog} className="help" aria-labelledby="help-title" onClose={onClose} onCancel={onClose}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <dl>
        {SHORTCUTS.map((s) => (
          <div key={s.keys} className="shortcut">
            <dt>
              <kbd>{s.keys}</kbd>
            </dt>
            <dd>{s.action}</dd>
          </div>
        ))}
      </dl>
      <p className="muted">
        Drag across a waveform to loop that part (it snaps to beats and bars when the song has a steady beat); click it to jump
        there. Click a section over the waveforms to loop it, and a chord in the chord lane to correct it.
      </p>
      <button type="button" className="btn primary" onClick={onClose} autoFocus>
        Close
      </button>
    </dialog>
  );
}
