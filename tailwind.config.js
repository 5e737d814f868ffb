/** @type {import('tailwindcss').Config} */
module.exports = {
  // Only the templ sources: the generated *_templ.go files repeat the same classes.
  content: ['./internal/views/**/*.templ'],
  // Dark mode off: one light theme, whatever the system prefers. In Tailwind 3 `false` means
  // `media`, so `dark:` is tied to a `.dark` class instead, and no page sets it.
  darkMode: 'selector',
  theme: {
    extend: {
      colors: {
        // Brand blue; 600 on white passes WCAG AA for text (contrast above 4.5:1).
        brand: {
          50: '#eff6ff',
          100: '#dbeafe',
          600: '#1d4ed8',
          700: '#1e40af',
          800: '#1e3a8a',
        },
        focus: '#b45309',
      },
      fontFamily: {
        sans: [
          'system-ui',
          '-apple-system',
          '"Segoe UI"',
          'Roboto',
          '"Helvetica Neue"',
          'Arial',
          'sans-serif',
        ],
      },
      maxWidth: {
        prose: '65ch',
      },
    },
  },
  plugins: [],
};
