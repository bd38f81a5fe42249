import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML part of an `.xlsx` read back with Foundation's XML parser (which
/// also proves it well-formed): every element with its attributes and text.
public struct ParsedXML {
    public struct Element {
        public var name: String
        public var attributes: [String: String]
        /// The element's own character data.
        public var text: String
        /// Names of the enclosing elements, outermost first.
        public var ancestors: [String]
    }

    public var elements: [Element] = []

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ data: Data, name: String) throws {
        let delegate = Collector()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse() else {
            throw Malformed(description: "\(name): not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        elements = delegate.elements
    }

    /// The elements called `name`.
    public func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }

    /// A worksheet's cells by reference ("B2"): type attribute (`nil` = number),
    /// style, and value (`<v>` text, or the inline string's text).
    public func cells() -> [String: (type: String?, style: String?, value: String)] {
        var result: [String: (type: String?, style: String?, value: String)] = [:]
        var current: (reference: String, type: String?, style: String?)?
        for element in elements {
            switch element.name {
            case "c":
                current = (element.attributes["r"] ?? "?", element.attributes["t"], element.attributes["s"])
                result[current!.reference] = (current!.type, current!.style, "")
            case "v", "t":
                if let cell = current { result[cell.reference]!.value += element.text }
            default: break
            }
        }
        return result
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var open: [Int] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append(Element(name: name, attributes: attributes, text: "",
                                    ancestors: open.map { elements[$0].name }))
            open.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let index = open.last { elements[index].text += string }
        }
    }
}
