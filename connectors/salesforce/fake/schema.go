package fake

// fieldType is the Salesforce data type of a field, as far as the fake needs it.
type fieldType int

const (
	tID fieldType = iota
	tString
	tBool
	tNumber
	tDate
	tDatetime
	tRef
	tPicklist
)

func (t fieldType) String() string {
	switch t {
	case tID:
		return "id"
	case tBool:
		return "boolean"
	case tNumber:
		return "double"
	case tDate:
		return "date"
	case tDatetime:
		return "dateTime"
	case tRef:
		return "reference"
	case tPicklist:
		return "picklist"
	}
	return "string"
}

// field describes one field of an sObject.
type field struct {
	typ      fieldType
	readOnly bool
	// values restricts a picklist; empty means unrestricted.
	values []string
	// label is the field label Salesforce uses in validation messages.
	label string
}

// relation is a parent relationship: Opportunity.Account follows AccountId to an Account.
type relation struct {
	fk     string
	target string
}

// object is one sObject type.
type object struct {
	prefix    string
	fields    map[string]field
	relations map[string]relation
}

// currencyField is CurrencyIsoCode, present only in multi-currency orgs.
const currencyField = "CurrencyIsoCode"

func rw(t fieldType) field { return field{typ: t} }
func ro(t fieldType) field { return field{typ: t, readOnly: true} }

// newSchema returns the objects the fake serves; multi-currency orgs also get CurrencyIsoCode.
func newSchema(multiCurrency bool) map[string]*object {
	audit := map[string]field{
		"Id": ro(tID), "CreatedDate": ro(tDatetime), "LastModifiedDate": ro(tDatetime), "SystemModstamp": ro(tDatetime),
		"IsDeleted": ro(tBool),
	}
	with := func(extra map[string]field) map[string]field {
		m := make(map[string]field, len(audit)+len(extra)+1)
		for k, v := range audit {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		if multiCurrency {
			m[currencyField] = rw(tPicklist)
		}
		return m
	}
	s := map[string]*object{
		"Account": {prefix: "001", fields: with(map[string]field{
			"Name": rw(tString), "BillingStreet": rw(tString), "BillingCity": rw(tString), "BillingState": rw(tString),
			"BillingPostalCode": rw(tString), "BillingCountry": rw(tString),
		})},
		"Product2": {prefix: "01t", fields: with(map[string]field{
			"Name": rw(tString), "ProductCode": rw(tString), "Family": rw(tPicklist), "IsActive": rw(tBool),
			"Description":    rw(tString),
			"Price_Model__c": {typ: tPicklist, label: "Price Model"}, "Meter__c": rw(tString), "Unit__c": rw(tString),
			"Tiers__c": rw(tString), "Rate__c": rw(tNumber),
		})},
		"Opportunity": {prefix: "006", fields: with(map[string]field{
			"Name": rw(tString), "AccountId": rw(tRef), "StageName": rw(tPicklist), "IsWon": ro(tBool), "IsClosed": ro(tBool),
			"CloseDate": rw(tDate), "Amount": rw(tNumber), "Pricebook2Id": rw(tRef), "ContractId": rw(tRef),
			"HasOpportunityLineItem": ro(tBool), "Description": rw(tString), "Type": rw(tPicklist),
			"Billing_Entity__c":      rw(tString),
			"Payment_Provider__c":    {typ: tPicklist, label: "Payment Provider", values: []string{"stripe", "paypal", "bank"}},
			"Payment_Method__c":      rw(tString),
			"Contract_Start_Date__c": rw(tDate), "Contract_Term_Months__c": rw(tNumber),
			"Billing_Frequency__c":  {typ: tPicklist, label: "Billing Frequency", values: []string{"Monthly", "Quarterly", "Annual"}},
			"Revhub_Contract_Id__c": rw(tString),
			"Revhub_Status__c": {typ: tPicklist, label: "Revhub Status",
				values: []string{"Pending", "Active", "Ended", "Cancelled", "Rejected"}},
			"Revhub_Billed_To_Date__c": rw(tNumber),
		}), relations: map[string]relation{"Account": {fk: "AccountId", target: "Account"}, "Contract": {fk: "ContractId", target: "Contract"}}},
		"OpportunityLineItem": {prefix: "00k", fields: with(map[string]field{
			"OpportunityId": rw(tRef), "PricebookEntryId": rw(tRef), "Product2Id": ro(tRef), "Name": ro(tString),
			"Quantity": rw(tNumber), "UnitPrice": rw(tNumber), "ListPrice": ro(tNumber), "TotalPrice": rw(tNumber),
			"Subtotal": ro(tNumber), "Discount": rw(tNumber), "ServiceDate": rw(tDate), "Description": rw(tString),
			"End_Date__c": rw(tDate), "Tiers__c": rw(tString), "Percent__c": rw(tNumber), "Rate__c": rw(tNumber),
			"Package_Size__c": rw(tNumber),
		}), relations: map[string]relation{"Opportunity": {fk: "OpportunityId", target: "Opportunity"}, "Product2": {fk: "Product2Id", target: "Product2"}}},
		"Contract": {prefix: "800", fields: with(map[string]field{
			"AccountId": rw(tRef), "StartDate": rw(tDate), "ContractTerm": rw(tNumber), "EndDate": ro(tDate),
			"Status": rw(tPicklist), "StatusCode": ro(tPicklist), "ActivatedDate": ro(tDatetime), "ContractNumber": ro(tString),
		}), relations: map[string]relation{"Account": {fk: "AccountId", target: "Account"}}},
	}
	return s
}
