using System;
using Gen.Calibrate;

return CalibrateCommand.Run(args, Console.Out, Console.Error);
