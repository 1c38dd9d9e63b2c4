import Foundation
import TRMCommandLine

exit(CommandLineTool.main(Array(CommandLine.arguments.dropFirst())))
