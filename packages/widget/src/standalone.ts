// The self-contained build: every element registered, plus the SDK, for one <script type="module"> tag.
import './define.js';

export * from '@jobtracker/sdk';
export * from './index.js';
