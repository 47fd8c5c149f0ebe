package invoice

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// PDF layout on A4 portrait, in millimetres.
const (
	pdfMargin    = 15.0
	pdfBottom    = 282.0 // lowest y a row may reach before a page break
	pdfColNo     = 8.0
	pdfColDesc   = 87.0
	pdfColQty    = 25.0
	pdfColPrice  = 35.0
	pdfColAmount = 25.0
	pdfLineH     = 5.0
	pdfWhyH      = 3.8
)

// RenderPDF writes the invoice as an A4 PDF with the same content as RenderHTML: parties, dates,
// lines with their explanations, totals, credit notes and bank-transfer remittance details. The
// output is deterministic for a given document (its creation date is the finalization time).
func RenderPDF(w io.Writer, doc Document) error {
	inv := doc.Invoice
	cur := inv.Currency
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := cp1252 // UTF-8 to the core fonts' Windows-1252
	stamp := inv.CreatedAt
	if inv.FinalizedAt != nil {
		stamp = *inv.FinalizedAt
	}
	if stamp.IsZero() {
		stamp = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	pdf.SetCreationDate(stamp.UTC())
	pdf.SetModificationDate(stamp.UTC())
	pdf.SetCatalogSort(true)
	pdf.SetTitle(doc.title(), true)
	pdf.SetAuthor(doc.Seller.Name, true)
	pdf.SetCreator("revhub", true)
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(false, pdfMargin)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetXY(pdfMargin, 287)
		pdf.SetFont("Helvetica", "", 7)
		pdf.SetTextColor(120, 120, 120)
		pdf.CellFormat(180, 4, tr(fmt.Sprintf("%s - page %d of {nb}", doc.title(), pdf.PageNo())), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()

	text := func(style string, size float64, h float64, s string) {
		pdf.SetFont("Helvetica", style, size)
		pdf.SetTextColor(34, 34, 34)
		pdf.MultiCell(0, h, tr(s), "", "L", false)
	}
	text("B", 16, 8, doc.title())
	if inv.Number == "" {
		pdf.SetTextColor(176, 0, 0)
		pdf.SetFont("Helvetica", "B", 9)
		pdf.MultiCell(0, 5, tr("This draft may still change; it carries no number and is not payable."), "", "L", false)
	}
	pdf.Ln(2)

	// Parties side by side.
	top := pdf.GetY()
	party := func(x float64, heading string, p Party, extra ...string) float64 {
		pdf.SetXY(x, top)
		lines := []string{}
		if heading != "" {
			lines = append(lines, heading)
		}
		lines = append(lines, p.Name)
		lines = append(lines, p.Address...)
		if p.TaxID != "" {
			lines = append(lines, "Tax ID: "+p.TaxID)
		}
		if p.Email != "" {
			lines = append(lines, p.Email)
		}
		lines = append(lines, extra...)
		for i, l := range lines {
			style := ""
			if l == p.Name && i <= 1 {
				style = "B"
			}
			pdf.SetFont("Helvetica", style, 9)
			pdf.SetX(x)
			pdf.CellFormat(85, 4.5, tr(l), "", 2, "L", false, 0, "")
		}
		return pdf.GetY()
	}
	y1 := party(pdfMargin, "", doc.Seller)
	y2 := party(pdfMargin+95, "Bill to:", doc.Buyer, "Customer: "+inv.CustomerID)
	pdf.SetXY(pdfMargin, max(y1, y2)+4)

	meta := [][2]string{{"Status", statusLabel(inv.Status)}}
	if inv.Number != "" {
		meta = append(meta, [2]string{"Invoice number", inv.Number}, [2]string{"Issue date", inv.IssueDate.String()},
			[2]string{"Due date", inv.DueDate.String()})
	}
	if !inv.PeriodStart.IsZero() {
		meta = append(meta, [2]string{"Service period", inv.PeriodStart.String() + " to " + inv.PeriodEnd.AddDays(-1).String()})
	}
	if inv.ContractID != "" {
		c := inv.ContractID
		if inv.ContractVersion > 0 {
			c += fmt.Sprintf(" (version %d)", inv.ContractVersion)
		}
		meta = append(meta, [2]string{"Contract", c})
	}
	meta = append(meta, [2]string{"Currency", string(cur)})
	for _, m := range meta {
		pdf.SetFont("Helvetica", "", 9)
		pdf.CellFormat(35, 4.5, tr(m[0]), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(0, 4.5, tr(m[1]), "", 1, "L", false, 0, "")
	}
	if inv.Memo != "" {
		pdf.Ln(2)
		text("", 9, 4.5, inv.Memo)
	}
	pdf.Ln(4)

	header := func() {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.SetTextColor(34, 34, 34)
		pdf.CellFormat(pdfColNo, 6, "#", "B", 0, "L", false, 0, "")
		pdf.CellFormat(pdfColDesc, 6, "Description", "B", 0, "L", false, 0, "")
		pdf.CellFormat(pdfColQty, 6, "Quantity", "B", 0, "R", false, 0, "")
		pdf.CellFormat(pdfColPrice, 6, "Unit price", "B", 0, "R", false, 0, "")
		pdf.CellFormat(pdfColAmount, 6, "Amount", "B", 1, "R", false, 0, "")
	}
	header()
	for _, l := range inv.Lines {
		desc := l.Description
		if !l.PeriodStart.IsZero() {
			desc += " (" + l.PeriodStart.String() + " to " + l.PeriodEnd.AddDays(-1).String() + ")"
		}
		why := explain(l, cur)
		pdf.SetFont("Helvetica", "", 9)
		descLines := pdf.SplitText(tr(desc), pdfColDesc-2)
		pdf.SetFont("Helvetica", "", 7.5)
		var whyLines []string
		for _, s := range why {
			whyLines = append(whyLines, pdf.SplitText(tr(s), pdfColDesc-4)...)
		}
		h := float64(len(descLines))*pdfLineH + float64(len(whyLines))*pdfWhyH + 1.5
		if pdf.GetY()+h > pdfBottom {
			pdf.AddPage()
			header()
		}
		x0, y0 := pdf.GetXY()
		pdf.SetFont("Helvetica", "", 9)
		pdf.SetTextColor(34, 34, 34)
		pdf.CellFormat(pdfColNo, pdfLineH, fmt.Sprint(l.No), "", 0, "L", false, 0, "")
		for i, dl := range descLines {
			pdf.SetXY(x0+pdfColNo, y0+float64(i)*pdfLineH)
			pdf.CellFormat(pdfColDesc, pdfLineH, dl, "", 0, "L", false, 0, "")
		}
		pdf.SetFont("Helvetica", "", 7.5)
		pdf.SetTextColor(102, 102, 102)
		for i, wl := range whyLines {
			pdf.SetXY(x0+pdfColNo+2, y0+float64(len(descLines))*pdfLineH+float64(i)*pdfWhyH)
			pdf.CellFormat(pdfColDesc-2, pdfWhyH, wl, "", 0, "L", false, 0, "")
		}
		pdf.SetFont("Helvetica", "", 9)
		pdf.SetTextColor(34, 34, 34)
		pdf.SetXY(x0+pdfColNo+pdfColDesc, y0)
		unit := ""
		if l.UnitPrice != nil {
			unit = FormatUnitPrice(*l.UnitPrice, cur)
		}
		for _, c := range []struct {
			w float64
			s string
		}{{pdfColQty, l.Quantity.String()}, {pdfColPrice, unit}, {pdfColAmount, FormatAmount(l.Amount, cur)}} {
			pdf.SetFont("Helvetica", "", 9)
			if pdf.GetStringWidth(c.s) > c.w-2 { // a long exact quantity or 12-decimal price: shrink, never overlap
				pdf.SetFont("Helvetica", "", 9*(c.w-2)/pdf.GetStringWidth(c.s))
			}
			pdf.CellFormat(c.w, pdfLineH, c.s, "", 0, "R", false, 0, "")
		}
		pdf.SetDrawColor(221, 221, 221)
		pdf.Line(x0, y0+h, x0+180, y0+h)
		pdf.SetDrawColor(0, 0, 0)
		pdf.SetXY(x0, y0+h+0.5)
	}

	// Totals, right-aligned.
	rows := [][2]string{{"Subtotal", FormatAmount(inv.Subtotal, cur)}}
	if !inv.Discount.IsZero() {
		rows = append(rows, [2]string{"Discounts and credits", "-" + FormatAmount(inv.Discount, cur)})
	}
	rows = append(rows, [2]string{"Total", FormatAmount(inv.Total, cur) + " " + string(cur)})
	if !inv.AmountPaid.IsZero() {
		rows = append(rows, [2]string{"Paid", "-" + FormatAmount(inv.AmountPaid, cur)})
	}
	for _, cn := range doc.CreditNotes {
		rows = append(rows, [2]string{"Credit note " + cn.Number + " (" + cn.IssueDate.String() + ")", "-" + FormatAmount(cn.Total, cur)})
	}
	rows = append(rows, [2]string{"Amount due", FormatAmount(inv.AmountDue, cur) + " " + string(cur)})
	if pdf.GetY()+float64(len(rows))*5+45 > pdfBottom {
		pdf.AddPage()
	}
	pdf.Ln(3)
	for i, r := range rows {
		style, border := "", ""
		if i == len(rows)-1 {
			style, border = "B", "T"
		}
		pdf.SetFont("Helvetica", style, 9)
		pdf.SetX(pdfMargin + 90)
		pdf.CellFormat(55, 5, tr(r[0]), border, 0, "L", false, 0, "")
		pdf.CellFormat(35, 5, tr(r[1]), border, 1, "R", false, 0, "")
	}

	if doc.Bank != nil && inv.PaymentReference != "" {
		pdf.Ln(8)
		b := doc.Bank
		lines := []string{"Account holder: " + b.AccountHolder}
		for _, kv := range [][2]string{{"Bank", b.BankName}, {"IBAN", b.IBAN}, {"BIC", b.BIC},
			{"Account number", b.AccountNumber}, {"Routing number", b.RoutingNumber}} {
			if kv[1] != "" {
				lines = append(lines, kv[0]+": "+kv[1])
			}
		}
		pdf.SetFont("Helvetica", "B", 9)
		pdf.MultiCell(0, 5, tr(fmt.Sprintf("Pay by bank transfer by %s, quoting the payment reference %s", inv.DueDate, inv.PaymentReference)), "LTR", "L", false)
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 4.5, tr(strings.Join(lines, "\n")), "LBR", "L", false)
	}

	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("invoice: render %s as PDF: %w", inv.ID, err)
	}
	return nil
}
