import { useEffect, useRef } from 'react';

/** Call `onFrame` every animation frame while mounted (the latest function; one frame loop). */
export function useFrame(onFrame: () => void, active = true): void {
  const fn = useRef(onFrame);
  fn.current = onFrame;
  useEffect(() => {
    if (!active) return;
    let frame = 0;
    const tick = () => {
      fn.current();
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [active]);
}
