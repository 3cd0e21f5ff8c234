// The README's React snippet (copied beside this file as readme-snippet.tsx by the consumers suite) in a
// React 19 app built by Vite from the packed tarballs.
import './host';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Badge, Tracker } from './readme-snippet';

function App() {
  return (
    <StrictMode>
      <nav>
        <a href="/react/">
          Programs <Badge />
        </a>
      </nav>
      <job-button type="epm_generation" job-title="Program from React">
        <button type="button">Generate program</button>
      </job-button>
      <Tracker />
    </StrictMode>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing');
createRoot(root).render(<App />);
