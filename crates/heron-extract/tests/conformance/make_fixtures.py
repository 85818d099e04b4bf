#!/usr/bin/env python3
"""Make the extraction conformance fixtures with the tools that write
these formats for real: python-docx, openpyxl, python-pptx, reportlab and
pikepdf, msoffcrypto-tool, Python's email package (RTF, a text format,
is written as Word writes it); parts those libraries cannot write
(footnotes, text boxes, altChunk, embedded files, shapes) are added to
their packages the way Word and Excel store them.

    python3 -m venv /tmp/fx && /tmp/fx/bin/pip install python-docx openpyxl python-pptx odfpy reportlab pikepdf msoffcrypto-tool
    /tmp/fx/bin/python crates/heron-extract/tests/conformance/make_fixtures.py

Writes the fixtures beside this script and `expected.tsv`: fixture, kind of
content, a string a person sees in it. Every string is unique to its
place, so finding it proves that place was read.
"""

import datetime
import email.message
import email.policy
import io
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = []


def expect(fixture, kind, text):
    EXPECTED.append((fixture, kind, text))


def rewrite_zip(path, edit):
    """Rewrite the package at `path`: edit(name, bytes) -> bytes, then add
    what edit.extra holds."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            target.writestr(info.filename, edit(info.filename, data))
        for name, data in edit.extra.items():
            target.writestr(name, data)


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def docx_fixture():
    import docx

    name = "features.docx"
    path = os.path.join(HERE, name)
    document = docx.Document()
    document.add_paragraph("Body paragraph alphaword")
    expect(name, "body", "Body paragraph alphaword")
    section = document.sections[0]
    section.header.paragraphs[0].text = "Header text bravoword"
    expect(name, "header", "Header text bravoword")
    section.footer.paragraphs[0].text = "Footer text charlieword"
    expect(name, "footer", "Footer text charlieword")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Table cell deltaword"
    expect(name, "table cell", "Table cell deltaword")
    document.add_paragraph("First numbered item", style="List Number")
    document.add_paragraph("Second numbered item", style="List Number")
    expect(name, "numbered list label", "1. First numbered item")
    expect(name, "numbered list label", "2. Second numbered item")
    commented = document.add_paragraph("Commented sentence")
    document.add_comment(commented.runs, text="Comment text echoword", author="Reviewer")
    expect(name, "comment", "Comment text echoword")
    document.add_paragraph("Footnoted sentence").add_run()
    document.save(path)

    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes {W}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:t>Footnote text foxtrotword</w:t></w:r></w:p></w:footnote>'
        "</w:footnotes>"
    )
    endnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:endnotes {W}>'
        '<w:endnote w:id="1"><w:p><w:r><w:t>Endnote text golfword</w:t></w:r></w:p></w:endnote>'
        "</w:endnotes>"
    )
    expect(name, "footnote", "Footnote text foxtrotword")
    expect(name, "endnote", "Endnote text golfword")
    text_box = (
        '<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="width:200pt;height:50pt">'
        "<v:textbox><w:txbxContent><w:p><w:r><w:t>Text box hotelword</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
    )
    expect(name, "text box", "Text box hotelword")
    alt_chunk = '<w:altChunk r:id="rIdHeronChunk"/>'
    expect(name, "altChunk (imported HTML)", "Imported HTML indiaword")
    embedded_sheet = io.BytesIO()
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Embedded sheet julietword"
    workbook.save(embedded_sheet)
    expect(name, "embedded workbook", "Embedded sheet julietword")

    def edit(member, data):
        if member == "word/document.xml":
            xml = data.decode("utf-8")
            xml = xml.replace("<w:body>", "<w:body>" + text_box + alt_chunk, 1)
            xml = xml.replace(
                "<w:t>Footnoted sentence</w:t></w:r>",
                '<w:t>Footnoted sentence</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r>'
                '<w:r><w:endnoteReference w:id="1"/></w:r>',
                1,
            )
            if R not in xml:
                xml = xml.replace("<w:document ", f"<w:document {R} ", 1)
            return xml.encode("utf-8")
        if member == "word/_rels/document.xml.rels":
            rels = data.decode("utf-8").replace(
                "</Relationships>",
                f'<Relationship Id="rIdHeronFoot" Type="{REL}/footnotes" Target="footnotes.xml"/>'
                f'<Relationship Id="rIdHeronEnd" Type="{REL}/endnotes" Target="endnotes.xml"/>'
                f'<Relationship Id="rIdHeronChunk" Type="{REL}/aFChunk" Target="afchunk.htm"/>'
                f'<Relationship Id="rIdHeronSheet" Type="{REL}/package" '
                'Target="embeddings/Microsoft_Excel_Worksheet.xlsx"/></Relationships>',
            )
            return rels.encode("utf-8")
        if member == "[Content_Types].xml":
            types = data.decode("utf-8").replace(
                "</Types>",
                '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>'
                '<Override PartName="/word/endnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml"/>'
                '<Default Extension="htm" ContentType="text/html"/>'
                '<Default Extension="xlsx" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/>'
                "</Types>",
            )
            return types.encode("utf-8")
        return data

    edit.extra = {
        "word/footnotes.xml": footnotes,
        "word/endnotes.xml": endnotes,
        "word/afchunk.htm": "<html><body><p>Imported HTML indiaword</p></body></html>",
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": embedded_sheet.getvalue(),
    }
    rewrite_zip(path, edit)


def xlsx_fixture():
    import openpyxl
    from openpyxl.comments import Comment

    name = "features.xlsx"
    path = os.path.join(HERE, name)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Ledger"
    sheet["A1"] = "Sheet cell kiloword"
    expect(name, "cell", "Sheet cell kiloword")
    expect(name, "sheet name", "Ledger")
    sheet["A2"] = 3.14159
    expect(name, "decimal number", "3.14159")
    sheet["A3"] = datetime.date(2024, 3, 15)
    expect(name, "date", "2024-03-15")
    sheet["A4"] = 1234567
    expect(name, "integer", "1234567")
    sheet.oddHeader.center.text = "Sheet header limaword"
    sheet.oddFooter.left.text = "Sheet footer mikeword"
    expect(name, "page header", "Sheet header limaword")
    expect(name, "page footer", "Sheet footer mikeword")
    sheet["B1"].comment = Comment("Cell comment novemberword", "Reviewer")
    expect(name, "comment", "Cell comment novemberword")
    second = workbook.create_sheet("Summary")
    second["C3"] = "Second sheet oscarword"
    expect(name, "second sheet", "Second sheet oscarword")
    workbook.save(path)

    drawing = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<xdr:twoCellAnchor><xdr:from><xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>'
        '<xdr:to><xdr:col>6</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>5</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>'
        '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="2" name="TextBox 1"/><xdr:cNvSpPr txBox="1"/></xdr:nvSpPr>'
        '<xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>'
        '<xdr:txBody><a:bodyPr/><a:p><a:r><a:t>Shape text papaword</a:t></a:r></a:p></xdr:txBody></xdr:sp>'
        "<xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
    )
    expect(name, "shape text", "Shape text papaword")

    def edit(member, data):
        if member == "xl/worksheets/sheet1.xml":
            xml = data.decode("utf-8")
            tag = '<drawing r:id="rIdHeronDrawing"/>'
            if "xmlns:r=" not in xml:
                xml = xml.replace("<worksheet ", f"<worksheet {R} ", 1)
            # A drawing comes after the page setup and before legacy drawings.
            for anchor in ("<legacyDrawing", "</worksheet>"):
                if anchor in xml:
                    xml = xml.replace(anchor, tag + anchor, 1)
                    break
            return xml.encode("utf-8")
        if member == "xl/worksheets/_rels/sheet1.xml.rels":
            return data.decode("utf-8").replace(
                "</Relationships>",
                f'<Relationship Id="rIdHeronDrawing" Type="{REL}/drawing" Target="../drawings/drawing1.xml"/></Relationships>',
            ).encode("utf-8")
        if member == "[Content_Types].xml":
            return data.decode("utf-8").replace(
                "</Types>",
                '<Override PartName="/xl/drawings/drawing1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/></Types>',
            ).encode("utf-8")
        return data

    edit.extra = {"xl/drawings/drawing1.xml": drawing}
    rewrite_zip(path, edit)


def pptx_fixture():
    from pptx import Presentation
    from pptx.util import Inches

    name = "features.pptx"
    path = os.path.join(HERE, name)
    presentation = Presentation()
    first = presentation.slides.add_slide(presentation.slide_layouts[1])
    first.shapes.title.text = "Slide title quebecword"
    first.placeholders[1].text = "Slide body romeoword"
    expect(name, "slide title", "Slide title quebecword")
    expect(name, "slide body", "Slide body romeoword")
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Second slide"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    table.cell(1, 1).text = "Slide table sierraword"
    expect(name, "table cell", "Slide table sierraword")
    box = second.shapes.add_textbox(Inches(1), Inches(4), Inches(4), Inches(1))
    box.text_frame.text = "Slide text box tangoword"
    expect(name, "text box", "Slide text box tangoword")
    second.notes_slide.notes_text_frame.text = "Speaker notes uniformword"
    expect(name, "speaker notes", "Speaker notes uniformword")
    presentation.save(path)


def email_fixture():
    name = "parts.eml"
    outer = email.message.EmailMessage(policy=email.policy.SMTP)
    outer["From"] = "Ann Example <ann@example.com>"
    outer["To"] = "bob@example.com"
    outer["Subject"] = "Subject line victorword"
    expect(name, "subject", "Subject line victorword")
    outer.set_content("Plain body whiskeyword\n")
    outer.add_alternative("<html><body><p>Plain body whiskeyword</p></body></html>", subtype="html")
    expect(name, "text body", "Plain body whiskeyword")
    mixed = email.message.EmailMessage(policy=email.policy.SMTP)
    mixed["From"] = outer["From"]
    mixed["To"] = outer["To"]
    mixed["Subject"] = outer["Subject"]
    mixed.make_mixed()
    alternative = email.message.EmailMessage(policy=email.policy.SMTP)
    alternative.set_content("Plain body whiskeyword\n")
    alternative.add_alternative("<html><body><p>Plain body whiskeyword</p><p>Only in HTML xrayword</p></body></html>", subtype="html")
    expect(name, "HTML alternative with more words", "Only in HTML xrayword")
    mixed.attach(alternative)
    inline = email.message.EmailMessage(policy=email.policy.SMTP)
    inline.set_content("<html><body><p>Inline HTML part yankeeword</p></body></html>", subtype="html", disposition="inline")
    expect(name, "inline HTML part", "Inline HTML part yankeeword")
    mixed.attach(inline)
    nested = email.message.EmailMessage(policy=email.policy.SMTP)
    nested["From"] = "carol@example.com"
    nested["Subject"] = "Forwarded"
    nested.set_content("Nested message zuluword\n")
    expect(name, "nested message", "Nested message zuluword")
    wrapper = email.message.EmailMessage(policy=email.policy.SMTP)
    wrapper.set_content(nested)
    mixed.attach(wrapper)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(mixed.as_bytes())


def pdf_fixture():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    name = "form.pdf"
    path = os.path.join(HERE, name)
    page = canvas.Canvas(path, pagesize=A4)
    page.drawString(72, 800, "Request for Taxpayer Identification")
    expect(name, "page text", "Request for Taxpayer Identification")
    page.acroForm.textfield(name="taxpayer_name", value="Form value amberword", x=72, y=700, width=300, height=20)
    expect(name, "form field value", "Form value amberword")
    page.save()
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        note = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Text,
                Rect=[72, 600, 92, 620],
                Contents=pikepdf.String("Sticky note bronzeword"),
            )
        )
        page = pdf.pages[0].obj
        if "/Annots" not in page:
            page.Annots = pikepdf.Array()
        page.Annots.append(note)
        # A field filled by software: its value in /V only, no appearance
        # drawn (the viewer draws it), as many filled W-9s come.
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String("identification_number"),
                V=pikepdf.String("Unrendered value steelword"),
                Rect=[72, 650, 372, 670],
                P=page,
            )
        )
        page.Annots.append(field)
        pdf.Root.AcroForm.Fields.append(field)
        pdf.Root.AcroForm.NeedAppearances = True
        pdf.save(path)
    expect(name, "annotation note", "Sticky note bronzeword")
    expect(name, "form field value without appearance", "Unrendered value steelword")


def html_fixture():
    name = "page.xhtml"
    xhtml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Page title copperword</title></head>'
        "<body><h1>Heading ironword</h1><table><tr><td>Cell leadword</td></tr></table>"
        "<ul><li>List item nickelword</li></ul><p>Para with <b>bold tinword</b> inside</p></body></html>"
    )
    for text, kind in (("Page title copperword", "title"), ("Heading ironword", "heading"),
                       ("Cell leadword", "table cell"), ("List item nickelword", "list item"),
                       ("bold tinword", "inline element")):
        expect(name, kind, text)
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        f.write(xhtml)


def rtf_fixture():
    name = "codepages.rtf"
    rtf = (
        r"{\rtf1\ansi\ansicpg1250\deff0"
        r"{\fonttbl{\f0\froman\fcharset238 Times New Roman CE;}{\f1\fnil\fcharset128 MS Mincho;}"
        r"{\f2\fswiss\fcharset204 Arial Cyr;}}"
        r"{\header\pard Running header graniteword\par}"
        r"{\footer\pard Running footer marbleword\par}"
        r"\pard\f0 P\'f8\'edli\'9a \'9elu\'9dou\'e8k\'fd k\'f9\'f2\par"
        r"{\f1 \'8b\'e0\'8a\'7a}\par"
        r"{\f2 \'d1\'f7\'e5\'f2}\par"
        r"\uc1\u1044?\u1086?\u1075?\u1086?\u1074?\u1086?\u1088? slateword\par"
        r"Range 2020\endash 2024\emdash final\par"
        r"{\field{\*\fldinst HYPERLINK \"https://example.com\"}{\fldrslt Linked text basaltword}}\par"
        r"Footnoted{\super\chftn}{\footnote\pard{\super\chftn} Footnote quartzword}\par"
        r"}"
    )
    for text, kind in (
        ("Příliš žluťoučký kůň", "code page 1250"),
        ("金額", "Shift_JIS font (CJK)"),
        ("Счет", "Cyrillic font charset"),
        ("Договор slateword", "\\u Unicode with fallback"),
        ("2020–2024—final", "en and em dashes"),
        ("Linked text basaltword", "field result"),
        ("Running header graniteword", "header"),
        ("Running footer marbleword", "footer"),
        ("Footnote quartzword", "footnote"),
    ):
        expect(name, kind, text)
    with open(os.path.join(HERE, name), "w", encoding="ascii") as f:
        f.write(rtf)


def encrypted_fixture():
    """A Word file protected by a password: extraction must say
    `encrypted` (checked by the test itself, not through expected.tsv)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = os.path.join(HERE, "features.docx")
    with open(plain, "rb") as source, open(os.path.join(HERE, "encrypted.docx"), "wb") as target:
        office = OOXMLFile(source)
        office.encrypt("heron-secret", target)


def odt_fixture():
    from odf.opendocument import OpenDocumentText
    from odf.office import Annotation
    from odf.style import Footer, Header, MasterPage, PageLayout
    from odf.text import Note, NoteBody, NoteCitation, P

    name = "features.odt"
    document = OpenDocumentText()
    layout = PageLayout(name="Page")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    header.addElement(P(text="Page header cobaltword"))
    master.addElement(header)
    footer = Footer()
    footer.addElement(P(text="Page footer zincword"))
    master.addElement(footer)
    document.masterstyles.addElement(master)
    paragraph = P(text="Body text chromeword")
    note = Note(id="ftn1", noteclass="footnote")
    note.addElement(NoteCitation(text="1"))
    body = NoteBody()
    body.addElement(P(text="Footnote text silverword"))
    note.addElement(body)
    paragraph.addElement(note)
    comment = Annotation()
    comment.addElement(P(text="Margin comment goldword"))
    paragraph.addElement(comment)
    document.text.addElement(paragraph)
    document.save(os.path.join(HERE, name))
    for text, kind in (("Body text chromeword", "body"), ("Footnote text silverword", "footnote"),
                       ("Margin comment goldword", "comment"), ("Page header cobaltword", "header"),
                       ("Page footer zincword", "footer")):
        expect(name, kind, text)


def main():
    docx_fixture()
    odt_fixture()
    encrypted_fixture()
    rtf_fixture()
    xlsx_fixture()
    pptx_fixture()
    email_fixture()
    pdf_fixture()
    html_fixture()
    with open(os.path.join(HERE, "expected.tsv"), "w", encoding="utf-8") as f:
        f.write("fixture\tcontent\ttext\n")
        for row in EXPECTED:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
