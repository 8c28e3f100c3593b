import Extraction
import Foundation
var o = ExtractionOptions()
let r = try Extractor.extract(InputFile(path: CommandLine.arguments[1], explicit: true), options: o)
let t = r.document.text
if CommandLine.arguments.count > 2 {
  let ref = try String(contentsOfFile: CommandLine.arguments[2], encoding: .utf8)
  let f = TokenF1(candidate: t, reference: ref)
  print(String(format: "P=%.3f R=%.3f F1=%.3f", f.precision, f.recall, f.f1))
} else { print(t) }
