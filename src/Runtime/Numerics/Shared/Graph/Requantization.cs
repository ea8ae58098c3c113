using System.Globalization;

namespace Gen.Runtime.Graph
{
    /// <summary>The requantization multipliers the ops derive, with one check for all of them.</summary>
    public static class Requantization
    {
        /// <summary>
        /// A real multiplier in (0, 1) as M0 and shift (<see cref="FixedPoint.QuantizeMultiplier"/>); false with the reason
        /// when it is 1 or more, not positive, or so small that M0 rounds to 0 and every value would flush to the zero point.
        /// </summary>
        public static bool TryMultiplier(double real, out int m0, out int shift, out string? problem)
        {
            m0 = 0;
            shift = 0;
            if (!(real > 0) || !(real < 1))
            {
                problem = string.Format(CultureInfo.InvariantCulture,
                    "the requantization multiplier {0:G9} must be in (0, 1); check the activation scales.", real);
                return false;
            }

            FixedPoint.QuantizeMultiplier(real, out m0, out shift);
            if (m0 == 0)
            {
                problem = string.Format(CultureInfo.InvariantCulture,
                    "the requantization multiplier {0:G9} is below 2^-32 and would flush every value to the zero point.", real);
                return false;
            }

            problem = null;
            return true;
        }
    }
}
