package esa

// orderChanges decodes the "oc" array into m.OC, reusing its elements and
// the slices nested in them.
func (d *Decoder) orderChanges(m *Message) error {
	m.OC = m.OC[:0]
	more, err := d.arrStart()
	for n := 0; more && err == nil; n++ {
		if n < cap(m.OC) {
			m.OC = m.OC[:n+1]
			oc := &m.OC[n]
			*oc = OrderMarketChange{ORC: oc.ORC[:0]}
		} else {
			m.OC = append(m.OC, OrderMarketChange{})
		}
		if err = d.orderMarketChange(&m.OC[n]); err != nil {
			return inIndex(err, n)
		}
		more, err = d.arrNext()
	}
	return err
}

func (d *Decoder) orderMarketChange(oc *OrderMarketChange) error {
	d.ws()
	start := d.i
	if d.shallow {
		if err := d.idOnly(&oc.ID); err != nil {
			return err
		}
		oc.Raw = d.b[start:d.i:d.i]
		return nil
	}
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "id":
			oc.ID, err = d.str()
		case "accountId":
			oc.AccountID, err = d.int64()
		case "closed":
			oc.Closed, err = d.boolean()
		case "fullImage":
			oc.FullImage, err = d.boolean()
		case "orc":
			err = d.orderRunnerChanges(oc)
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	oc.Raw = d.b[start:d.i:d.i]
	if err == nil && len(oc.ID) == 0 {
		return errNoID(start)
	}
	return err
}

func (d *Decoder) orderRunnerChanges(oc *OrderMarketChange) error {
	oc.ORC = oc.ORC[:0]
	more, err := d.arrStart()
	for n := 0; more && err == nil; n++ {
		if n < cap(oc.ORC) {
			oc.ORC = oc.ORC[:n+1]
			r := &oc.ORC[n]
			*r = OrderRunnerChange{UO: r.UO[:0], MB: r.MB[:0], ML: r.ML[:0], SMC: r.SMC[:0]}
		} else {
			oc.ORC = append(oc.ORC, OrderRunnerChange{})
		}
		if err = d.orderRunnerChange(&oc.ORC[n]); err != nil {
			return inIndex(err, n)
		}
		more, err = d.arrNext()
	}
	return err
}

func (d *Decoder) orderRunnerChange(r *OrderRunnerChange) error {
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "id":
			r.ID, err = d.idInt()
		case "hc":
			r.Hc, err = d.float()
			r.HasHc = err == nil
		case "fullImage":
			r.FullImage, err = d.boolean()
		case "uo":
			err = d.orders(r)
		case "mb":
			r.MB, err = d.ladder(r.MB[:0])
			r.HasMB = true
		case "ml":
			r.ML, err = d.ladder(r.ML[:0])
			r.HasML = true
		case "smc":
			err = d.strategyMatches(r)
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	return err
}

// strategyMatches decodes "smc", an object keyed by strategy reference.
func (d *Decoder) strategyMatches(r *OrderRunnerChange) error {
	r.SMC = r.SMC[:0]
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		n := len(r.SMC)
		if n < cap(r.SMC) {
			r.SMC = r.SMC[:n+1]
			s := &r.SMC[n]
			*s = StrategyMatchChange{MB: s.MB[:0], ML: s.ML[:0]}
		} else {
			r.SMC = append(r.SMC, StrategyMatchChange{})
		}
		s := &r.SMC[n]
		s.Ref = d.internBytes(k)
		if !d.null() {
			if err = d.strategyMatch(s); err != nil {
				return inKey(err, k)
			}
		}
		more, err = d.objNext()
	}
	return err
}

func (d *Decoder) strategyMatch(s *StrategyMatchChange) error {
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		switch {
		case d.null():
		case string(k) == "mb":
			s.MB, err = d.ladder(s.MB[:0])
			s.HasMB = true
		case string(k) == "ml":
			s.ML, err = d.ladder(s.ML[:0])
			s.HasML = true
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	return err
}

// orders decodes "uo", reusing r.UO's elements.
func (d *Decoder) orders(r *OrderRunnerChange) error {
	r.UO = r.UO[:0]
	more, err := d.arrStart()
	for n := 0; more && err == nil; n++ {
		if n < cap(r.UO) {
			r.UO = r.UO[:n+1]
			r.UO[n] = Order{}
		} else {
			r.UO = append(r.UO, Order{})
		}
		if err = d.order(&r.UO[n]); err != nil {
			return inIndex(err, n)
		}
		more, err = d.arrNext()
	}
	return err
}

func (d *Decoder) order(o *Order) error {
	more, err := d.objStart()
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if d.null() {
			more, err = d.objNext()
			continue
		}
		switch string(k) {
		case "id":
			o.ID, err = d.goString()
		case "p":
			o.Price, err = d.float()
		case "s":
			o.Size, err = d.float()
		case "bsp":
			o.BspLiability, err = d.float()
		case "side":
			o.Side, err = d.goString()
		case "status":
			o.Status, err = d.goString()
		case "pt":
			o.PersistenceType, err = d.goString()
		case "ot":
			o.OrderType, err = d.goString()
		case "pd":
			o.PlacedDate, err = d.int64()
		case "md":
			o.MatchedDate, err = d.int64()
		case "cd":
			o.CancelledDate, err = d.int64()
		case "ld":
			o.LapsedDate, err = d.int64()
		case "lsrc":
			o.LapseStatusReason, err = d.goString()
		case "avp":
			o.AvgPriceMatched, err = d.float()
		case "sm":
			o.SizeMatched, err = d.float()
		case "sr":
			o.SizeRemaining, err = d.float()
		case "sl":
			o.SizeLapsed, err = d.float()
		case "sc":
			o.SizeCancelled, err = d.float()
		case "sv":
			o.SizeVoided, err = d.float()
		case "rac":
			o.RegulatorAuthCode, err = d.goString()
		case "rc":
			o.RegulatorCode, err = d.goString()
		case "rfo":
			o.CustomerOrderRef, err = d.goString()
		case "rfs":
			o.CustomerStrategyRef, err = d.goString()
		default:
			err = d.skip()
		}
		if err != nil {
			return inKey(err, k)
		}
		more, err = d.objNext()
	}
	return err
}
