package salesforce

// Custom fields revhub reads from and writes to Salesforce; docs/salesforce.md describes each one.
const (
	// FieldBillingEntity (Opportunity, text) names the revhub billing entity that invoices the deal.
	FieldBillingEntity = "Billing_Entity__c"
	// FieldPaymentProvider (Opportunity, picklist) is the payment provider: stripe, paypal or bank.
	FieldPaymentProvider = "Payment_Provider__c"
	// FieldPaymentMethod (Opportunity, text) is the customer's stored payment method at the provider
	// (a Stripe PaymentMethod id pm_..., a PayPal vault id); automatic charges need it.
	FieldPaymentMethod = "Payment_Method__c"
	// FieldContractStart (Opportunity, date) is the first day of service.
	FieldContractStart = "Contract_Start_Date__c"
	// FieldContractTerm (Opportunity, number) is the term in months.
	FieldContractTerm = "Contract_Term_Months__c"
	// FieldBillingFrequency (Opportunity, picklist) is how often fees are invoiced: Monthly, Quarterly or Annual.
	FieldBillingFrequency = "Billing_Frequency__c"

	// FieldPriceModel (Product2, picklist) is the revhub price model code of the product.
	FieldPriceModel = "Price_Model__c"
	// FieldMeter (Product2, text) is the revhub usage meter a usage product is rated on.
	FieldMeter = "Meter__c"
	// FieldUnit (Product2, text) is the unit name shown on invoices.
	FieldUnit = "Unit__c"
	// FieldTiers (OpportunityLineItem and Product2, long text) is the tier table; the line item's wins.
	FieldTiers = "Tiers__c"
	// FieldRate (OpportunityLineItem and Product2, number) is a usage rate: the unit price, the package price,
	// or the fixed fee per transaction of a percentage line; the line item's wins.
	FieldRate = "Rate__c"
	// FieldPackageSize (OpportunityLineItem, number) is the block size of a package line.
	FieldPackageSize = "Package_Size__c"
	// FieldPercent (OpportunityLineItem, percent) is the rate of a percentage-of-volume line, in percent.
	FieldPercent = "Percent__c"
	// FieldEndDate (OpportunityLineItem, date) is the last day of a line's service; empty means until the next step.
	FieldEndDate = "End_Date__c"

	// FieldRevhubContractID (Opportunity, text, write-back) is the revhub contract id.
	FieldRevhubContractID = "Revhub_Contract_Id__c"
	// FieldRevhubStatus (Opportunity, picklist, write-back) is the revhub contract status.
	FieldRevhubStatus = "Revhub_Status__c"
	// FieldRevhubBilledToDate (Opportunity, currency, write-back) is the amount invoiced so far.
	FieldRevhubBilledToDate = "Revhub_Billed_To_Date__c"
)
