using Gen.Runtime.Graph;

namespace Gen.Runtime.Interpreter.Reference
{
    /// <summary>The reference im2col: window w is at grid row <c>w / OutputWidth</c>, column <c>w % OutputWidth</c>.</summary>
    internal static class Im2ColReference
    {
        public static void Run(Im2ColAttributes a, sbyte[] image, sbyte[] windows) => Im2Col(a, image, windows);

        /// <summary>The same walk for any element type (the float model uses it too).</summary>
        public static void Im2Col<T>(Im2ColAttributes a, T[] image, T[] windows)
        {
            int i = 0;
            for (int w = 0; w < a.Windows; w++)
            {
                int top = w / a.OutputWidth * a.Stride, left = w % a.OutputWidth * a.Stride;
                for (int c = 0; c < a.Channels; c++)
                {
                    for (int dy = 0; dy < a.Kernel; dy++)
                    {
                        for (int dx = 0; dx < a.Kernel; dx++)
                        {
                            windows[i++] = image[(c * a.Height + top + dy) * a.Width + left + dx];
                        }
                    }
                }
            }
        }
    }
}
