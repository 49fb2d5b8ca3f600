// SVG files are bundled as text (JupyterLab's builder loads *.svg as source strings).
declare module '*.svg' {
  const value: string;
  export default value;
}
